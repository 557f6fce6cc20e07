"""Relation-aware graph attention (``graph_encoder="rgat"``): each edge knows its relations, the
model starts as plain edge attention, learns a term per relation, and works on sampled graphs."""

from __future__ import annotations

import numpy as np
import torch
from tiny import FAST, _kg, make_tiny_pair, tiny_split

from mimea_core.data.types import MMKGPair
from mimea_core.model import build_vocab
from mimea_core.model.gat import GraphEncoder
from mimea_core.model.inputs import build_inputs
from mimea_core.training import train


def _hand_pair() -> MMKGPair:
    """KG1: 0 -r0-> 1, 0 -r1-> 1 (two relations on one edge), 1 -r1-> 2. KG2: 0 -s0-> 1."""
    kg1 = _kg("A", 3, [[0, 0, 1], [0, 1, 1], [1, 1, 2]], ["a:r0", "a:r1"], [], [], [])
    kg2 = _kg("B", 2, [[0, 0, 1]], ["b:s0"], [], [], [])
    return MMKGPair(name="HAND", kg1=kg1, kg2=kg2, links=np.array([[0, 0], [1, 1]]), source="hand")


def _relations_of(inputs, src: int, dst: int) -> dict[int, float]:
    e = int(np.flatnonzero((inputs.edge_src.numpy() == src) & (inputs.edge_dst.numpy() == dst))[0])
    sets = inputs.edge_relations.sets
    k = int(inputs.edge_relations.of_edge[e])
    lo, hi = sets.rowptr[k : k + 2].tolist()
    return dict(zip(sets.cols[lo:hi].tolist(), sets.vals[lo:hi].tolist(), strict=True))


def test_every_edge_carries_its_relations_by_direction_and_self_loops_their_own_id():
    pair = _hand_pair()
    vocab = build_vocab(pair, 10, 10)
    inputs = build_inputs(pair, vocab)
    # relation-bag columns: KG1 r0 out 0, r1 out 1, r0 in 2, r1 in 3; KG2 s0 out 4, s0 in 5
    assert vocab.relation_dim == 6 and vocab.edge_relation_dim == 8
    assert _relations_of(inputs, 0, 1) == {2: 0.5, 3: 0.5}  # into 1: incoming r0 and r1, a mean
    assert _relations_of(inputs, 1, 0) == {0: 0.5, 1: 0.5}  # into 0: its outgoing r0 and r1
    assert _relations_of(inputs, 2, 1) == {1: 1.0}
    assert _relations_of(inputs, 3, 4) == {5: 1.0}  # KG2 entity 0 is global 3
    assert _relations_of(inputs, 2, 2) == {7: 1.0}  # a self loop
    assert len(inputs.edge_relations.of_edge) == len(inputs.edge_src)
    assert inputs.edge_relations.sets.shape[1] == 8
    # a relation outside the vocabulary shares one id
    small = build_inputs(pair, build_vocab(pair, 1, 10))
    assert set(_relations_of(small, 0, 1)) == {small.edge_relations.sets.shape[1] - 2, 1}


def test_edges_share_relation_sets_and_the_mean_over_a_set_is_exact():
    """One row per distinct set (a cheap gather per edge), the same mean as a bag over each edge."""
    from mimea_core.model.inputs import _edge_relations

    pair = make_tiny_pair(n=60)
    vocab = build_vocab(pair, 50, 50)
    inputs = build_inputs(pair, vocab)
    rel = inputs.edge_relations
    assert rel.sets.shape[0] < len(rel.of_edge)  # shared: fewer sets than edges
    dense = rel.sets.to_dense().numpy()
    assert len({tuple(row) for row in dense}) == len(dense)  # each set once
    pairs = _edge_relations(pair, vocab, inputs.edge_src.numpy(), inputs.edge_dst.numpy())
    weight = torch.randn(vocab.edge_relation_dim, 2, generator=torch.Generator().manual_seed(0))
    brute = np.zeros((len(inputs.edge_src), 2))
    counts = np.bincount(pairs[:, 0], minlength=len(inputs.edge_src))
    np.add.at(brute, pairs[:, 0], weight.numpy()[pairs[:, 1]] / counts[pairs[:, 0], None])
    np.testing.assert_allclose(rel.mean(weight).numpy(), brute, rtol=1e-5, atol=1e-6)
    some = torch.tensor([5, 0, 17])
    np.testing.assert_allclose(rel.subset(some).mean(weight).numpy(), brute[[5, 0, 17]], rtol=1e-5, atol=1e-6)


def test_relation_attention_starts_as_edge_attention_and_learns_a_term_per_relation():
    pair = make_tiny_pair(n=60)
    vocab = build_vocab(pair, 50, 50)
    inputs = build_inputs(pair, vocab)
    n = sum(inputs.num_entities)
    torch.manual_seed(0)
    plain = GraphEncoder(n, 16, entity_dropout=0.0)
    torch.manual_seed(0)
    aware = GraphEncoder(n, 16, entity_dropout=0.0, relations=vocab.edge_relation_dim)
    for a, b in zip(plain.layers, aware.layers, strict=True):  # the same non-trivial node attention
        torch.nn.init.normal_(a.att_src, generator=torch.Generator().manual_seed(1))
        torch.nn.init.normal_(a.att_dst, generator=torch.Generator().manual_seed(2))
        b.att_src.data.copy_(a.att_src)
        b.att_dst.data.copy_(a.att_dst)
    plain.eval()
    aware.eval()
    torch.testing.assert_close(aware(inputs), plain(inputs))  # q = 0: the same attention
    aware(inputs)[:10].pow(2).sum().backward()
    grad = aware.layers[0].att_rel.grad
    assert grad is not None and grad.abs().sum() > 0  # the relation terms are trained
    with torch.no_grad():
        aware.layers[0].att_rel[0] += 3.0  # one relation counts more: the output changes
    assert not torch.allclose(aware(inputs), plain(inputs))


def test_relation_attention_on_sampled_neighbourhoods_equals_the_full_graph_when_the_fanout_covers_all():
    pair = make_tiny_pair(n=60)
    vocab = build_vocab(pair, 50, 50)
    inputs = build_inputs(pair, vocab)
    fanout = int(np.diff(inputs.csr_rowptr.numpy()).max())
    torch.manual_seed(0)
    enc = GraphEncoder(sum(inputs.num_entities), 16, entity_dropout=0.0, fanout=fanout,
                       relations=vocab.edge_relation_dim)  # fmt: skip
    for layer in enc.layers:
        torch.nn.init.normal_(layer.att_rel)
    ids = torch.tensor([0, 5, 17, 61, 90])
    enc.eval()
    full = enc(inputs, ids)
    enc.train()
    torch.testing.assert_close(enc(inputs, ids), full, rtol=1e-5, atol=1e-6)


def test_training_with_relation_attention_learns():
    pair = make_tiny_pair(n=60)
    split = tiny_split(pair, train=0.4, valid=0.15)
    result = train(pair, FAST.replace(epochs=4, graph_encoder="rgat", pseudo_seeding=False), split=split)
    assert result.config.graph_encoder == "rgat"
    assert any(k.endswith("att_rel") for k in result.model.state_dict())
    losses = [row["losses"]["total"] for row in result.history]
    assert losses[-1] < losses[0] and np.isfinite(result.metrics.hits1)


def test_edge_relation_sets_are_built_only_for_a_relation_aware_graph_encoder():
    from mimea_core.model.model import prepare_inputs

    pair = make_tiny_pair(n=40)
    vocab = build_vocab(pair, 50, 50)
    assert prepare_inputs(pair, vocab, ["graph"], "cpu", "rgat").edge_relations is not None
    assert prepare_inputs(pair, vocab, ["graph"], "cpu", "gat").edge_relations is None
    assert prepare_inputs(pair, vocab, ["relation"], "cpu", "rgat").edge_relations is None  # no graph
    for encoder in ("gat", "gcn"):  # and the other encoders train without them
        result = train(pair, FAST.replace(graph_encoder=encoder, epochs=2), split=tiny_split(pair))
        assert np.isfinite(result.history[-1]["losses"]["total"]) and np.isfinite(result.metrics.hits1)
