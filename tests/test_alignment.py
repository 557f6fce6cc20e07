"""Optimal transport wrapper and one-to-one decoding."""

from __future__ import annotations

import itertools

import numpy as np
import ot
import pytest
import torch

from mimea_core.alignment import (
    cosine_cost,
    one_to_one_matching,
    ot_loss,
    sinkhorn_plan,
    sparse_one_to_one,
    transport_plan,
)
from mimea_core.alignment.matching import _greedy_rounds, greedy_edge_matching, sparse_sinkhorn_log_plan


def _random_hist(n: int, gen: torch.Generator) -> torch.Tensor:
    w = torch.rand(n, generator=gen, dtype=torch.float64) + 0.1
    return w / w.sum()


def test_sinkhorn_plan_marginals_and_gibbs_form():
    gen = torch.Generator().manual_seed(0)
    a, b = _random_hist(7, gen), _random_hist(5, gen)
    M = torch.rand(7, 5, generator=gen, dtype=torch.float64)
    reg = 0.05
    T = sinkhorn_plan(a, b, M, reg)
    assert isinstance(T, torch.Tensor) and T.shape == (7, 5)
    torch.testing.assert_close(T.sum(1), a, atol=1e-6, rtol=0)
    torch.testing.assert_close(T.sum(0), b, atol=1e-6, rtol=0)
    # optimality: log T_ij + M_ij / reg = f_i + g_j, i.e. the double-centred matrix vanishes
    G = torch.log(T) + M / reg
    centred = G - G.mean(1, keepdim=True) - G.mean(0, keepdim=True) + G.mean()
    assert centred.abs().max() < 1e-4


def test_sinkhorn_plan_small_reg_is_the_permutation_and_large_reg_is_independent():
    M = torch.tensor([[0.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]], dtype=torch.float64)
    T = sinkhorn_plan(None, None, M, reg=0.01)  # log-domain: exp(-100) underflows nothing here
    expected = torch.tensor([[1.0, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=torch.float64) / 3
    torch.testing.assert_close(T, expected, atol=1e-6, rtol=0)
    T_flat = sinkhorn_plan(None, None, M, reg=1e4)
    torch.testing.assert_close(T_flat, torch.full((3, 3), 1 / 9, dtype=torch.float64), atol=1e-5, rtol=0)


def test_sinkhorn_plan_numpy_in_numpy_out_and_bad_arguments():
    T = sinkhorn_plan(None, None, np.array([[0.0, 1.0], [1.0, 0.0]]), 0.1)
    assert isinstance(T, np.ndarray)
    with pytest.raises(ValueError, match="grad"):
        sinkhorn_plan(None, None, torch.zeros(2, 2), 0.1, grad="bogus")
    with pytest.raises(ValueError, match="reg"):
        sinkhorn_plan(None, None, torch.zeros(2, 2), 0.0)


@pytest.mark.parametrize("grad", ["autodiff", "last_step"])
def test_sinkhorn_plan_is_differentiable(grad):
    gen = torch.Generator().manual_seed(1)
    M = torch.rand(4, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    T = sinkhorn_plan(None, None, M, 0.1, grad=grad)
    (T * M).sum().backward()
    assert M.grad is not None and torch.isfinite(M.grad).all() and M.grad.abs().sum() > 0


@pytest.mark.parametrize("grad", ["envelope", "autodiff", "last_step"])
def test_ot_loss_gradients_flow_and_a_step_lowers_it(grad):
    gen = torch.Generator().manual_seed(2)
    X = torch.randn(16, 8, generator=gen, requires_grad=True)
    Y = torch.randn(16, 8, generator=gen)
    loss = ot_loss(X, Y, reg=0.05, grad=grad)
    loss.backward()
    assert X.grad is not None and torch.isfinite(X.grad).all() and X.grad.abs().sum() > 0
    with torch.no_grad():
        X2 = X - 0.5 * X.grad
    assert ot_loss(X2, Y, reg=0.05).item() < loss.item()


def test_ot_loss_is_small_for_a_permuted_copy_and_large_for_unrelated_sets():
    gen = torch.Generator().manual_seed(3)
    X = torch.randn(32, 16, generator=gen)
    perm = torch.randperm(32, generator=gen)
    assert ot_loss(X, X[perm] * 3.0).item() < 1e-3  # scale does not matter: cosine cost
    assert ot_loss(X, torch.randn(32, 16, generator=gen)).item() > 0.3


def test_cosine_cost_range():
    C = cosine_cost(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    torch.testing.assert_close(C, torch.tensor([[0.0, 1.0, 2.0]]))


def test_transport_plan_uniform_marginals_and_concentration():
    rng = np.random.default_rng(0)
    X1 = rng.normal(size=(6, 10))
    X2 = X1[[2, 0, 1, 5, 3, 4]] + 0.01 * rng.normal(size=(6, 10))
    plan = transport_plan(X1, X2[:5], reg=0.05)
    assert plan.shape == (6, 5) and plan.dtype == np.float64
    np.testing.assert_allclose(plan.sum(1), 1 / 6, atol=1e-6)
    np.testing.assert_allclose(plan.sum(0), 1 / 5, atol=1e-6)
    square = transport_plan(X1, X2, reg=0.02)
    assert square.argmax(1).tolist() == [1, 2, 0, 4, 5, 3]
    with pytest.raises(ValueError):
        transport_plan(np.zeros((0, 3)), X2)
    with pytest.raises(ValueError):
        transport_plan(X1, X2[:, :4])


def _brute_force_best(S: np.ndarray) -> float:
    n1, n2 = S.shape
    if n1 <= n2:
        return max(S[np.arange(n1), list(p)].sum() for p in itertools.permutations(range(n2), n1))
    return _brute_force_best(S.T)


@pytest.mark.parametrize("shape", [(6, 6), (4, 6), (6, 4)])
def test_hungarian_matches_brute_force(shape):
    rng = np.random.default_rng(sum(shape))
    S = rng.random(shape)
    pairs = one_to_one_matching(S, method="hungarian")
    assert len(pairs) == min(shape)
    assert len(set(pairs[:, 0])) == len(pairs) and len(set(pairs[:, 1])) == len(pairs)
    assert S[pairs[:, 0], pairs[:, 1]].sum() == pytest.approx(_brute_force_best(S), abs=1e-5)
    assert (np.diff(pairs[:, 0]) > 0).all()


def test_sinkhorn_decoding_recovers_a_noisy_permutation_and_is_one_to_one():
    rng = np.random.default_rng(4)
    n = 300
    perm = rng.permutation(n)
    X = rng.normal(size=(n, 32))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    Y = X[perm] + 0.05 * rng.normal(size=(n, 32))
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    S = X @ Y.T
    pairs = one_to_one_matching(S, method="sinkhorn")
    assert len(pairs) == n and len(np.unique(pairs[:, 1])) == n
    inverse = np.argsort(perm)
    assert (pairs[:, 1] == inverse[pairs[:, 0]]).mean() == 1.0
    # rectangular: fewer columns than rows
    rect = one_to_one_matching(S[:, :200], method="sinkhorn")
    assert len(rect) == 200 and len(np.unique(rect[:, 0])) == 200


def test_auto_uses_hungarian_when_small_and_sinkhorn_when_large():
    # greedy would pick (0,0) first; the optimum is the anti-diagonal
    S = np.array([[0.9, 0.8], [0.85, 0.1]])
    assert one_to_one_matching(S).tolist() == [[0, 1], [1, 0]]
    assert one_to_one_matching(S, max_hungarian=1).tolist() == [[0, 1], [1, 0]]  # Sinkhorn agrees here


def test_sparse_sinkhorn_on_full_support_agrees_with_pot():
    rng = np.random.default_rng(5)
    S = rng.random((8, 5)).astype(np.float32)
    rows, cols = np.nonzero(np.ones_like(S))
    logT = sparse_sinkhorn_log_plan(
        torch.from_numpy(rows),
        torch.from_numpy(cols),
        torch.from_numpy(S[rows, cols]),
        S.shape,
        reg=0.1,
        max_iter=1000,
        tol=1e-7,
    )
    ref = ot.sinkhorn(np.full(8, 1 / 8), np.full(5, 1 / 5), -S.astype(np.float64), 0.1, method="sinkhorn_log")
    np.testing.assert_allclose(np.exp(logT.numpy()).reshape(8, 5), ref, atol=1e-5)


def test_sparse_one_to_one_respects_the_edges_and_leaves_edgeless_rows_unmatched():
    rows = np.array([0, 0, 1, 2, 2])
    cols = np.array([0, 1, 0, 1, 3])
    scores = np.array([0.9, 0.2, 0.8, 0.7, 0.1])
    pairs = sparse_one_to_one(rows, cols, scores, (4, 4), reg=0.05)
    # row 3 has no edge; rows 0 and 1 compete for column 0 and row 1 has nothing else
    # the plan prefers giving column 0 to row 1 (its only edge), so rows 0 and 2 move over: a
    # matching of 3 where plain greedy on the scores would stop at [[0, 0], [2, 1]]
    assert pairs.tolist() == [[0, 1], [1, 0], [2, 3]]
    assert all((r, c) in set(zip(rows.tolist(), cols.tolist(), strict=True)) for r, c in pairs.tolist())
    assert 3 not in pairs[:, 0]


def test_greedy_edge_matching_takes_heaviest_edges_first():
    rows, cols = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    assert greedy_edge_matching(rows, cols, np.array([5.0, 4.0, 6.0, 1.0])).tolist() == [[0, 1], [1, 0]]


def test_greedy_rounds_take_best_proposals_first():
    scores = torch.tensor([[5.0, 4.0, 0.0], [6.0, 1.0, 0.0], [3.0, 2.0, 1.0]])
    # row 1 wins column 0 (6 > 5); row 0 then takes column 1; row 2 gets column 2
    assert _greedy_rounds(scores).tolist() == [[0, 1], [1, 0], [2, 2]]


def test_matching_rejects_bad_input():
    with pytest.raises(ValueError, match="method"):
        one_to_one_matching(np.zeros((2, 2)), method="nope")
    with pytest.raises(ValueError, match="NaN"):
        one_to_one_matching(np.array([[np.nan, 1.0]]))
    assert one_to_one_matching(np.zeros((0, 3))).shape == (0, 2)


@pytest.mark.parametrize("module_name", ["mimea_core.alignment.sinkhorn", "mimea_core.alignment.matching"])
def test_docstring_examples_hold(module_name):
    import doctest
    import importlib

    module = importlib.import_module(module_name)
    result = doctest.testmod(module, extraglobs={"np": np, "torch": torch})
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.timeout(120)
def test_one_to_one_terminates_on_degenerate_scores():
    """A collapsed model gives ties everywhere; decoding must still return a full matching quickly
    (the earlier round-based greedy matched one row per round here: O(n^3))."""
    n = 3100  # above the Hungarian limit: the sparse Sinkhorn + greedy completion path
    pairs = one_to_one_matching(np.zeros((n, n), dtype=np.float32))
    assert len(pairs) == n
    assert len(set(pairs[:, 0].tolist())) == n and len(set(pairs[:, 1].tolist())) == n
    rounds = _greedy_rounds(torch.zeros(1200, 1000))
    assert len(rounds) == 1000 and len(set(rounds[:, 1].tolist())) == 1000
