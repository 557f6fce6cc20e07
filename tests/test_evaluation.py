"""Evaluation: ranks, CSLS, metrics and protocols on hand-computed and synthetic cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimea_core.data.types import Split
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation import (
    block_ranks,
    csls_matrix,
    evaluate_embeddings,
    metrics_from_ranks,
    rank_queries,
    row_neighbourhood_mean,
    validation_mrr,
)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _split(train, valid, test) -> Split:
    arr = [np.asarray(x, dtype=np.int64).reshape(-1, 2) for x in (train, valid, test)]
    return Split(train=arr[0], valid=arr[1], test=arr[2], seed_ratio=0.2, seed=0)


# ----- ranks and metrics -------------------------------------------------------------------------


def test_block_ranks_ties_count_against_the_gold():
    scores = torch.tensor([[0.9, 0.5, 0.9, 0.1], [0.1, 0.2, 0.3, 0.4]])
    ranks = block_ranks(scores, np.array([0, 1]), np.array([0, 0]))
    assert ranks.tolist() == [2, 4]  # tie with column 2 is pessimistic; row 1's gold is last


def test_block_ranks_with_several_gold_candidates_uses_the_best_and_ignores_other_golds():
    scores = torch.tensor([[0.2, 0.8, 0.9, 0.8, 0.85]])
    # gold {1, 3}: best gold 0.8; non-gold columns 2 (0.9) and 4 (0.85) are above -> rank 3;
    # the other gold (column 3, also 0.8) does not count against it.
    assert block_ranks(scores, np.array([0, 0]), np.array([1, 3])).tolist() == [3]


def test_metrics_from_ranks_by_hand():
    m = metrics_from_ranks(np.array([1, 2, 10, 11]))
    assert m["hits@1"] == 0.25 and m["hits@10"] == 0.75
    assert m["mrr"] == pytest.approx((1 + 1 / 2 + 1 / 10 + 1 / 11) / 4)
    assert np.isnan(metrics_from_ranks(np.array([]))["mrr"])


# ----- CSLS ---------------------------------------------------------------------------------------


def test_csls_by_hand_k1():
    Q = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    C = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    # cos = [[1, .6], [0, .8]]; r_T = row max = [1, .8]; r_S = column max = [1, .8]
    expected = torch.tensor([[0.0, -0.6], [-1.8, 0.0]])
    torch.testing.assert_close(csls_matrix(Q, C, csls_k=1), expected)


def _brute_topk_mean(S: np.ndarray, k: int) -> np.ndarray:
    k = min(k, S.shape[1])
    return np.sort(S, axis=1)[:, ::-1][:, :k].mean(axis=1)


def test_row_neighbourhood_mean_chunked_matches_brute_force():
    rng = np.random.default_rng(0)
    A, B = (
        torch.from_numpy(_unit(rng.normal(size=(23, 5)))),
        torch.from_numpy(_unit(rng.normal(size=(17, 5)))),
    )
    S = (A @ B.T).numpy()
    np.testing.assert_allclose(
        row_neighbourhood_mean(A, B, 3, chunk_size=4).numpy(), _brute_topk_mean(S, 3), atol=1e-6
    )
    np.testing.assert_allclose(
        row_neighbourhood_mean(B, A, 3, chunk_size=5).numpy(), _brute_topk_mean(S.T, 3), atol=1e-6
    )
    # k larger than the other set is clipped; k = 0 gives zeros
    np.testing.assert_allclose(row_neighbourhood_mean(A, B[:2], 5).numpy(), S[:, :2].mean(1), atol=1e-6)
    assert (row_neighbourhood_mean(A, B, 0) == 0).all()


def test_rank_queries_chunked_matches_dense_brute_force():
    rng = np.random.default_rng(1)
    n1, n2, k = 40, 50, 3
    A, B = _unit(rng.normal(size=(n1, 8))), _unit(rng.normal(size=(n2, 8)))
    pairs = np.stack([rng.choice(n1, 25, replace=False), rng.choice(n2, 25, replace=False)], axis=1)
    cand = np.union1d(pairs[:, 1], np.arange(0, n2, 2))
    pool = np.union1d(pairs[:, 0], np.arange(0, n1, 3))
    got = rank_queries(torch.from_numpy(A), torch.from_numpy(B), pairs, cand, pool, csls_k=k, chunk_size=7)
    queries = np.unique(pairs[:, 0])
    cos = A[queries] @ B[cand].T
    r_t = _brute_topk_mean(cos, k)
    r_s = _brute_topk_mean(B[cand] @ A[pool].T, k)
    csls = 2 * cos - r_t[:, None] - r_s[None, :]
    gold_of = dict(pairs.tolist())
    for name, S in (("cosine", cos), ("csls", csls)):
        expected = [
            1 + int((S[i] > S[i, np.searchsorted(cand, gold_of[q])] + 1e-6).sum())
            for i, q in enumerate(queries)
        ]
        assert got[name].tolist() == expected, name


# ----- protocols ----------------------------------------------------------------------------------


def _aligned(n: int, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """KG1 embeddings, KG2 = a permutation of them, and the links (i, perm position)."""
    rng = np.random.default_rng(seed)
    E1 = _unit(rng.normal(size=(n, dim)))
    perm = rng.permutation(n)
    E2 = np.empty_like(E1)
    E2[perm] = E1
    return E1, E2, np.stack([np.arange(n), perm], axis=1)


def test_open_protocol_counts_distractors_per_direction():
    """Unlinked KG1 entities are distractors of KG2 -> KG1 only (like DB15K -> FB15K)."""
    E1, E2, links = _aligned(60)
    rng = np.random.default_rng(1)
    extra = _unit(rng.normal(size=(7, E1.shape[1])))
    metrics = evaluate_embeddings(
        Embeddings.from_joint(np.vstack([E1, extra]), E2), _split(links[:10], links[10:15], links[15:])
    )
    assert metrics["open_candidates"]["l2r"] == {"candidates": 45, "distractors": 0}
    assert metrics["open_candidates"]["r2l"] == {"candidates": 52, "distractors": 7}
    assert metrics["open"]["hits@1"] == metrics["standard"]["hits@1"]


def test_perfect_embedding_scores_one_everywhere():
    E1, E2, links = _aligned(60)
    metrics = evaluate_embeddings(Embeddings.from_joint(E1, E2), _split(links[:10], links[10:15], links[15:]))
    assert set(metrics) == {"standard", "open", "open_r2l", "open_candidates", "one_to_one", "detail"}
    assert set(metrics["detail"]) == {"standard", "open"}
    assert metrics["open_r2l"] == metrics["detail"]["open"]["r2l"]["csls"]
    # every non-seed entity is a test entity on both sides: the open protocol has no distractors
    assert metrics["open_candidates"] == {d: {"candidates": 45, "distractors": 0} for d in ("l2r", "r2l")}
    for protocol in ("standard", "open"):
        assert set(metrics["detail"][protocol]) == {"l2r", "r2l"}
        for direction in ("l2r", "r2l"):
            for sim in ("cosine", "csls"):
                assert metrics["detail"][protocol][direction][sim] == {
                    "hits@1": 1.0,
                    "hits@10": 1.0,
                    "mrr": 1.0,
                }
    assert metrics["standard"] == metrics["detail"]["standard"]["l2r"]["csls"]
    assert metrics["open"] == metrics["detail"]["open"]["l2r"]["csls"]
    assert metrics["one_to_one"] == {"hits@1": 1.0}


def test_random_embedding_scores_about_one_over_n():
    rng = np.random.default_rng(2)
    n = 400
    emb = Embeddings.from_joint(rng.normal(size=(n, 32)), rng.normal(size=(n, 32)))
    links = np.stack([np.arange(n), rng.permutation(n)], axis=1)
    metrics = evaluate_embeddings(emb, _split(links[:0], links[:0], links))
    chance_mrr = np.mean(1 / np.arange(1, n + 1))  # expected MRR of a uniformly random rank
    for direction in ("l2r", "r2l"):
        for sim in ("cosine", "csls"):
            m = metrics["detail"]["standard"][direction][sim]
            assert m["hits@1"] < 5 / n
            assert chance_mrr / 3 < m["mrr"] < chance_mrr * 3
    assert metrics["one_to_one"]["hits@1"] < 5 / n


def test_constant_embedding_is_not_rewarded_by_ties():
    emb = Embeddings.from_joint(np.ones((5, 3)), np.ones((5, 3)))
    links = np.stack([np.arange(5), np.arange(5)], axis=1)
    metrics = evaluate_embeddings(emb, _split(links[:0], links[:0], links), one_to_one=False)
    assert metrics["standard"]["hits@1"] == 0.0 and metrics["standard"]["mrr"] == pytest.approx(1 / 5)
    assert np.isnan(metrics["one_to_one"]["hits@1"])


def test_nan_embeddings_rank_last_not_first():
    E1, E2, links = _aligned(20)
    E1 = E1.copy()
    E1[:] = np.nan
    emb = Embeddings.from_joint(E1, E2)
    metrics = evaluate_embeddings(emb, _split([], [], links))
    assert metrics["standard"]["hits@1"] == 0.0 and metrics["standard"]["mrr"] == pytest.approx(1 / 20)
    assert metrics["one_to_one"]["hits@1"] == 0.0
    assert validation_mrr(emb, links) == pytest.approx(1 / 20)


def test_one_to_many_links_either_source_counts():
    # KG1 sources 0 and 1 both link to KG2 target 0; KG1 source 2 links to KG2 targets 1 and 2.
    E1 = _unit(np.array([[1, 0, 0, 0], [1, 0, 0, 0.001], [0, 1, 0, 0], [0, 0, 1, 0]]))
    E2 = _unit(np.array([[1, 0, 0, 0], [0, 1, 0, 0.5], [0, 1, 0, 0], [0, 0, 1, 0]]))
    test = np.array([[0, 0], [1, 0], [2, 1], [2, 2], [3, 3]])
    metrics = evaluate_embeddings(Embeddings.from_joint(E1, E2), _split([], [], test), csls_k=1)
    for protocol in ("standard", "open"):
        for direction in ("l2r", "r2l"):
            assert metrics["detail"][protocol][direction]["cosine"]["hits@1"] == 1.0, (protocol, direction)
    # one-to-one: only one of sources 0 and 1 can take target 0 -> 3 of 4 sources right
    assert metrics["one_to_one"]["hits@1"] == 0.75


def test_open_protocol_ranks_among_non_seed_entities_only():
    E1, E2, links = _aligned(30, seed=3)
    E2 = E2.copy()
    # a non-linked KG2 distractor identical to test source 20, and a seed target identical to source 21
    distractor = np.vstack([E2, E1[20:21]])
    seed_target = links[0, 1]
    distractor[seed_target] = E1[21]
    test = links[20:]
    split = _split(links[:1], links[1:2], test)
    metrics = evaluate_embeddings(Embeddings.from_joint(E1, distractor), split)
    std = metrics["detail"]["standard"]["l2r"]["cosine"]
    opn = metrics["detail"]["open"]["l2r"]["cosine"]
    assert std["hits@1"] == 1.0  # the distractor is not a test target
    assert opn["hits@1"] == pytest.approx(9 / 10)  # source 20 now ties with the distractor (pessimistic)
    # source 21's twin is a seed target: excluded from the open candidates, so it does not hurt


def test_validation_mrr_matches_the_standard_protocol_and_takes_tensors():
    rng = np.random.default_rng(4)
    E1, E2 = _unit(rng.normal(size=(50, 8))), _unit(rng.normal(size=(60, 8)))
    E2[:50] = _unit(E1 + 0.6 * rng.normal(size=E1.shape))
    pairs = np.stack([np.arange(50), np.arange(50)], axis=1)
    emb = Embeddings.from_joint(E1, E2)
    expected = evaluate_embeddings(emb, _split([], [], pairs))["standard"]["mrr"]
    assert 0.1 < expected < 1.0
    assert validation_mrr(emb, pairs) == pytest.approx(expected)
    assert validation_mrr(
        (torch.from_numpy(E1) * 3, torch.from_numpy(E2)), torch.from_numpy(pairs)
    ) == pytest.approx(expected, abs=1e-6)
    assert np.isnan(validation_mrr(emb, np.zeros((0, 2), dtype=np.int64)))


def test_evaluate_rejects_an_empty_test_set():
    E1, E2, links = _aligned(5)
    with pytest.raises(ValueError, match="no test links"):
        evaluate_embeddings(Embeddings.from_joint(E1, E2), _split(links, [], []))
