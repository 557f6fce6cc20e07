"""Sampled neighbourhoods (``graph_fanout``): exact where the fanout covers every degree, bounded in
N otherwise, and trainable end to end."""

from __future__ import annotations

import numpy as np
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.data.synthetic import SyntheticSpec, synthetic_pair
from mimea_core.model import build_vocab
from mimea_core.model.gat import GraphEncoder
from mimea_core.model.inputs import build_inputs
from mimea_core.model.sampling import HostGraphCache, sample_edges, sampled_view
from mimea_core.training import train


def _inputs(pair):
    return build_inputs(pair, build_vocab(pair, 50, 50), "cpu")


def test_sampled_propagation_equals_the_full_graph_when_the_fanout_covers_every_degree():
    pair = make_tiny_pair(n=60)
    inputs = _inputs(pair)
    in_degree = np.diff(inputs.csr_rowptr.numpy())
    n = sum(inputs.num_entities)
    torch.manual_seed(0)
    enc = GraphEncoder(n, 16, layers=2, heads=2, entity_dropout=0.0, fanout=int(in_degree.max()))
    for layer in enc.layers:  # non-trivial attention, so the softmax over in-edges matters
        torch.nn.init.normal_(layer.att_src)
        torch.nn.init.normal_(layer.att_dst)
    ids = torch.tensor([0, 5, 17, 61, 90])
    enc.eval()
    full = enc(inputs, ids)
    enc.train()  # the sampled path (no dropout configured, so the two must agree)
    sampled = enc(inputs, ids)
    torch.testing.assert_close(sampled, full, rtol=1e-5, atol=1e-6)
    view, nodes, _ = sampled_view(inputs, ids, 2, int(in_degree.max()), np.random.default_rng(0))
    assert len(nodes) < n  # a real subgraph, not the whole graph
    assert len(view.edge_src) < len(inputs.edge_src)


def test_the_host_copy_of_the_graph_is_made_once_per_graph_and_changes_nothing():
    """On CUDA the sampler's host arrays would otherwise be copied from the device on every step."""
    inputs = _inputs(make_tiny_pair(n=60))
    cache = HostGraphCache()
    host = cache.get(inputs)
    assert cache.get(inputs) is host  # the same graph: no new copy
    other = _inputs(make_tiny_pair(n=40))
    assert cache.get(other) is not host and len(cache.get(other).src) == len(other.edge_src)
    ids = torch.tensor([0, 5, 17])
    plain = sampled_view(inputs, ids, 2, 3, np.random.default_rng(1))
    cached = sampled_view(inputs, ids, 2, 3, np.random.default_rng(1), host)
    for a, b in zip((plain[0].edge_src, plain[0].edge_dst, plain[1], plain[2]),
                    (cached[0].edge_src, cached[0].edge_dst, cached[1], cached[2]), strict=True):  # fmt: skip
        assert torch.equal(a, b)


def test_a_step_touches_a_bounded_subgraph_whatever_the_size_of_the_graph():
    batch, fanout, hops = 64, 5, 2
    bound = batch * (1 + fanout + fanout**2)  # nodes within `hops` sampled hops
    edge_bound = batch * (1 + fanout) * (fanout + 1)  # expanded nodes x (self loop + fanout)
    sizes = {}
    for n in (2_000, 20_000):
        pair = synthetic_pair(SyntheticSpec(n=n, seed=1))
        inputs = _inputs(pair)
        rowptr, src = inputs.csr_rowptr.numpy(), inputs.edge_src.numpy()
        assert np.diff(rowptr).max() > 10 * fanout  # heavy-tailed: hubs far above the fanout
        ids = np.random.default_rng(0).choice(len(rowptr) - 1, batch, replace=False)
        edges, nodes = sample_edges(rowptr, src, ids, hops, fanout, np.random.default_rng(0))
        assert len(nodes) <= bound and len(edges) <= edge_bound
        sizes[n] = len(nodes)
        # every kept edge ends at a node that was expanded, and each node keeps its self loop
        dst = inputs.edge_dst.numpy()[edges]
        assert np.isin(dst, nodes).all()
        assert np.isin(ids, src[edges][src[edges] == dst]).all()
    assert sizes[20_000] <= bound and sizes[20_000] < 3 * sizes[2_000]


def test_training_with_sampled_neighbourhoods_learns_and_is_reproducible():
    pair = make_tiny_pair(n=60)
    split = tiny_split(pair, train=0.4, valid=0.15)
    config = FAST.replace(epochs=4, graph_fanout=3, pseudo_seeding=False)
    first = train(pair, config, split=split)
    again = train(pair, config, split=split)
    assert np.isfinite(first.metrics.hits1)
    assert first.config.graph_fanout == 3
    a, b = first.model.state_dict(), again.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the sampling is seeded
    losses = [row["losses"]["total"] for row in first.history]
    assert losses[-1] < losses[0]
