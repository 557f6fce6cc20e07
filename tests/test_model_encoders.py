"""Encoders and model inputs: shapes, presence masks, edge-list message passing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny import FAST, make_tiny_pair

from mimea_core.model import available_modalities, build_inputs, build_vocab
from mimea_core.model.gat import edge_spmm, segment_softmax


@pytest.fixture(scope="module")
def pair():
    return make_tiny_pair(n=40, visual="partial")


def test_inputs_shapes_and_masks(pair):
    vocab = build_vocab(pair, 100, 100)
    inputs = build_inputs(pair, vocab)
    n = pair.kg1.num_entities + pair.kg2.num_entities
    assert inputs.total == n
    # every node has a self loop, edges sorted by destination, CSR row pointers consistent
    loops = inputs.edge_src == inputs.edge_dst
    assert int(loops.sum()) == n
    assert torch.all(inputs.edge_dst[1:] >= inputs.edge_dst[:-1])
    assert int(inputs.csr_rowptr[-1]) == inputs.edge_src.shape[0]
    assert inputs.relation_bag.shape == (n, vocab.relation_dim)
    assert inputs.attribute_input.shape == (n, vocab.attribute_dim)
    # row subsets multiply like the dense matrix
    w = torch.randn(vocab.relation_dim, 5)
    ids = torch.tensor([3, 0, n - 1, 3])
    dense = inputs.relation_bag.to_dense()
    assert torch.allclose(inputs.relation_bag.matmul(w, ids), dense[ids] @ w, atol=1e-5)
    assert torch.allclose(inputs.relation_bag.matmul(w), dense @ w, atol=1e-5)
    # visual presence follows the given masks exactly, absent rows are zero
    p = inputs.present["visual"].numpy()
    expected = np.concatenate([pair.kg1.features["visual"].mask, pair.kg2.features["visual"].mask])
    assert np.array_equal(p, expected)
    assert torch.all(inputs.features["visual"][~inputs.present["visual"]] == 0)


def test_relation_bag_rows_are_normalised_and_directional(pair):
    vocab = build_vocab(pair, 100, 100)
    bag = build_inputs(pair, vocab).relation_bag.to_dense()
    norms = bag.norm(dim=1)
    has = norms > 0
    assert torch.allclose(norms[has], torch.ones(int(has.sum())), atol=1e-5)
    # entity 0 of KG1: its outgoing relations land in the first half of KG1's block
    out_rels = pair.kg1.triples[pair.kg1.triples[:, 0] == 0, 1]
    in_rels = pair.kg1.triples[pair.kg1.triples[:, 2] == 0, 1]
    assert out_rels.size and in_rels.size
    k = len(pair.kg1.relations)
    assert all(bag[0, r] > 0 for r in out_rels)
    assert all(bag[0, k + r] > 0 for r in in_rels)
    assert float(bag[0, 2 * k :].abs().sum()) == 0.0  # nothing in KG2's block


def test_visual_absent_is_left_out_not_filled():
    pair = make_tiny_pair(n=20, visual="none")
    vocab = build_vocab(pair, 100, 100)
    assert available_modalities(FAST, vocab) == ["graph", "relation", "attribute"]


def test_segment_softmax_sums_to_one_per_destination():
    scores = torch.tensor([[1.0], [2.0], [0.5], [3.0], [-1.0]])
    index = torch.tensor([0, 0, 1, 1, 1])
    a = segment_softmax(scores, index, 2)
    assert torch.allclose(torch.zeros(2).index_add_(0, index, a[:, 0]), torch.ones(2))
    assert torch.allclose(a[:2, 0], torch.softmax(torch.tensor([1.0, 2.0]), 0))


def test_edge_spmm_matches_dense_and_gradcheck(pair):
    vocab = build_vocab(pair, 100, 100)
    inputs = build_inputs(pair, vocab)
    n, e = inputs.total, inputs.edge_src.shape[0]
    torch.manual_seed(0)
    vals = torch.rand(e, dtype=torch.double, requires_grad=True)
    x = torch.randn(n, 3, dtype=torch.double, requires_grad=True)
    dense = torch.zeros(n, n, dtype=torch.double)
    dense[inputs.edge_dst, inputs.edge_src] = vals.detach()
    assert torch.allclose(edge_spmm(vals, x, inputs), dense @ x.detach())
    assert torch.autograd.gradcheck(lambda v, y: edge_spmm(v, y, inputs), (vals, x))
