"""Honest evaluation protocols on an :class:`~mimea_core.embeddings.Embeddings` and a split.

- **standard**: each test source's gold target is ranked among all test targets (as papers do);
  CSLS neighbourhoods are taken within the test sources and the test targets.
- **open**: ranked among *all* KG2 entities not used as seeds (not in train or valid), plus every
  test target (a gold target is always a candidate, even when a one-to-many link also put it in
  the seeds); the source-side CSLS neighbourhood is likewise all non-seed KG1 entities plus the
  test sources. This is what a curator faces.
- both directions: ``l2r`` (KG1 → KG2, the headline) and ``r2l`` (KG2 → KG1), with cosine and CSLS.
- **one-to-one**: a global one-to-one matching (:func:`~mimea_core.alignment.one_to_one_matching`)
  of the standard l2r CSLS matrix; Hits@1 = share of test sources matched to one of their gold targets.
  Above ``MAX_ONE_TO_ONE_ELEMENTS`` the dense matrix is never built: each row's and each column's
  ``support_k`` best CSLS entries are gathered block by block and decoded with
  :func:`~mimea_core.alignment.sparse_one_to_one` (a source whose supported targets are all taken
  stays unmatched and counts as a miss), so the figure exists at any size.

Everything runs in torch on the embeddings' ``device`` (``"cuda"`` when given); results come back
as numpy.

Gold links may be one-to-many: a query is correct when it ranks any of its gold candidates first
(see :mod:`mimea_core.evaluation.ranking` for the exact rank definition and ties).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import torch

from mimea_core.alignment import one_to_one_matching, sparse_one_to_one
from mimea_core.data.types import Split
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation.decoding import DECODINGS, sinkhorn_log_plan
from mimea_core.evaluation.ranking import GoldIndex, block_ranks, metrics_from_ranks
from mimea_core.evaluation.similarity import (
    MAX_BLOCK_ELEMENTS,
    csls_from_cosine,
    normalize_rows,
    row_chunks,
    row_neighbourhood_mean,
    topk_mean,
)

log = logging.getLogger(__name__)

SIMILARITIES = ("cosine", "csls")
# Largest standard test matrix decoded one-to-one (float32 elements; 2**28 = 1 GiB, ~16k x 16k).
MAX_ONE_TO_ONE_ELEMENTS = 2**28


def rank_queries(
    A: torch.Tensor,
    B: torch.Tensor,
    pairs: np.ndarray,
    cand_ids: np.ndarray,
    pool_ids: np.ndarray | None = None,
    *,
    csls_k: int = 3,
    chunk_size: int = 4096,
) -> dict[str, np.ndarray]:
    """Ranks of every query's gold candidate(s), with cosine and CSLS, in one chunked pass.

    Args:
        A: (nA, d) L2-normalised query-side embeddings (whole KG); B: (nB, d) candidate side.
        pairs: (k, 2) gold ``(A entity, B entity)`` pairs; the queries are ``unique(pairs[:, 0])``.
        cand_ids: B entities to rank among (must contain every gold candidate).
        pool_ids: A entities forming the candidates' CSLS neighbourhood ``r_S``; default the queries.
        csls_k: CSLS neighbourhood size (0: CSLS equals 2·cosine, same ranks as cosine).

    Returns:
        ``{"cosine": ranks, "csls": ranks}``, int arrays aligned with ``unique(pairs[:, 0])``.
    """
    query_ids = np.unique(pairs[:, 0])
    gold = GoldIndex.build(pairs, query_ids, cand_ids)
    device = A.device
    Q = A[torch.as_tensor(query_ids, device=device)]
    C = B[torch.as_tensor(np.asarray(cand_ids, dtype=np.int64), device=device)]
    P = Q if pool_ids is None else A[torch.as_tensor(np.asarray(pool_ids, dtype=np.int64), device=device)]
    r_cand = row_neighbourhood_mean(C, P, csls_k, chunk_size=chunk_size)
    ranks = {name: np.empty(len(query_ids), dtype=np.int64) for name in SIMILARITIES}
    for rows in row_chunks(len(query_ids), len(cand_ids), chunk_size):
        gold_rows, gold_cols = gold.chunk(rows)
        cos = Q[rows] @ C.T
        ranks["cosine"][rows] = block_ranks(cos, gold_rows, gold_cols)
        r_query = topk_mean(cos, csls_k)
        csls = cos.mul_(2.0).sub_(r_query[:, None]).sub_(r_cand[None, :])  # in place: cos is done
        ranks["csls"][rows] = block_ranks(csls, gold_rows, gold_cols)
    return ranks


def _directions(E1: torch.Tensor, E2: torch.Tensor, test: np.ndarray) -> dict[str, tuple]:
    """(A, B, pairs) per direction: l2r = KG1 queries, r2l = KG2 queries."""
    return {"l2r": (E1, E2, test), "r2l": (E2, E1, test[:, ::-1].copy())}


def _open_ids(n: int, seeds: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Entities of one KG not used as seeds, plus that KG's test entities."""
    return np.union1d(np.setdiff1d(np.arange(n), seeds), test)


def evaluate_embeddings(
    emb: Embeddings,
    split: Split,
    csls_k: int = 3,
    *,
    chunk_size: int = 4096,
    one_to_one: bool = True,
    device: str | torch.device = "cpu",
    decoding: str = "csls",
    decoding_reg: float = 0.02,
    decoding_iters: int = 10,
) -> dict[str, Any]:
    """All test metrics of ``emb`` on ``split.test``, in the shape of DESIGN.md section 3.

    ``device``: where the score blocks are computed (``"cuda"`` puts the embeddings on the GPU).
    ``decoding="sinkhorn"`` adds the Sinkhorn ranking of the standard protocol
    (:mod:`mimea_core.evaluation.decoding`, ``decoding_reg``, ``decoding_iters``) to ``detail``
    under ``"sinkhorn"`` in both directions and makes it the headline ``standard`` (the ``open``
    protocol and ``one_to_one`` stay CSLS); a test matrix above ``MAX_ONE_TO_ONE_ELEMENTS`` keeps
    CSLS (``decoding`` in the result says which was used).

    Returns:
        ``{"standard": {"hits@1", "hits@10", "mrr"}, "open": {...}, "one_to_one": {"hits@1"},
        "detail": {"standard": {"l2r": {"cosine": {...}, "csls": {...}}, "r2l": {...}},
        "open": {...}}}``; the headline ``standard``/``open`` are KG1 → KG2 with CSLS, ``open_r2l``
        is KG2 → KG1 (CSLS) and ``open_candidates[direction]`` counts the open candidate set and its
        *distractors* (candidates that are no test query's gold target; 0 means the open protocol
        cannot differ from the standard one in that direction).
        ``one_to_one`` is NaN only when disabled.
    """
    if decoding not in DECODINGS:
        raise ValueError(f"unknown decoding {decoding!r}; choose one of {', '.join(DECODINGS)}")
    test = np.asarray(split.test, dtype=np.int64).reshape(-1, 2)
    if len(test) == 0:
        raise ValueError("the split has no test links to evaluate on")
    seeds = np.concatenate([np.asarray(split.train).reshape(-1, 2), np.asarray(split.valid).reshape(-1, 2)])
    E1, E2 = normalize_rows(emb.joint[0]).to(device), normalize_rows(emb.joint[1]).to(device)
    n = {"l2r": (len(E1), len(E2)), "r2l": (len(E2), len(E1))}
    detail: dict[str, dict] = {"standard": {}, "open": {}}
    open_candidates: dict[str, dict[str, int]] = {}
    for direction, (A, B, pairs) in _directions(E1, E2, test).items():
        side_a, side_b = (0, 1) if direction == "l2r" else (1, 0)
        protocols = {
            "standard": (np.unique(pairs[:, 1]), None),
            "open": (
                _open_ids(n[direction][1], seeds[:, side_b], pairs[:, 1]),
                _open_ids(n[direction][0], seeds[:, side_a], pairs[:, 0]),
            ),
        }
        cand_open = protocols["open"][0]
        open_candidates[direction] = {
            "candidates": int(len(cand_open)),
            "distractors": int(len(np.setdiff1d(cand_open, pairs[:, 1]))),  # not a gold target of any query
        }
        for protocol, (cand_ids, pool_ids) in protocols.items():
            ranks = rank_queries(A, B, pairs, cand_ids, pool_ids, csls_k=csls_k, chunk_size=chunk_size)
            detail[protocol][direction] = {name: metrics_from_ranks(r) for name, r in ranks.items()}
        if decoding == "sinkhorn":
            ranks = sinkhorn_ranks(A, B, pairs, reg=decoding_reg, iters=decoding_iters)
            if ranks is not None:
                detail["standard"][direction]["sinkhorn"] = metrics_from_ranks(ranks)
    used = "sinkhorn" if "sinkhorn" in detail["standard"]["l2r"] else "csls"
    o2o = one_to_one_hits(E1, E2, test, csls_k=csls_k, chunk_size=chunk_size) if one_to_one else float("nan")
    return {
        "standard": dict(detail["standard"]["l2r"][used]),
        "open": dict(detail["open"]["l2r"]["csls"]),
        "open_r2l": dict(detail["open"]["r2l"]["csls"]),
        "open_candidates": open_candidates,
        "one_to_one": {"hits@1": o2o},
        "detail": detail,
        **({"decoding": used} if decoding != "csls" else {}),
    }


def sinkhorn_ranks(
    A: torch.Tensor,
    B: torch.Tensor,
    pairs: np.ndarray,
    *,
    reg: float,
    iters: int,
    max_elements: int = MAX_ONE_TO_ONE_ELEMENTS,
) -> np.ndarray | None:
    """Standard-protocol ranks of ``pairs`` under Sinkhorn decoding of the cosine matrix of the
    queries (``unique(pairs[:, 0])``) and their targets; ``None`` above ``max_elements`` entries."""
    query_ids, cand_ids = np.unique(pairs[:, 0]), np.unique(pairs[:, 1])
    if len(query_ids) * len(cand_ids) > max_elements:
        log.info("Sinkhorn decoding skipped: %d x %d is above the dense bound", len(query_ids), len(cand_ids))
        return None
    gold = GoldIndex.build(pairs, query_ids, cand_ids)
    Q = A[torch.as_tensor(query_ids, device=A.device)]
    C = B[torch.as_tensor(cand_ids, device=B.device)]
    L = sinkhorn_log_plan(Q @ C.T, reg, iters, inplace=True)
    gold_rows, gold_cols = gold.chunk(slice(0, len(query_ids)))
    return block_ranks(L, gold_rows, gold_cols)


def csls_matrix(Q: torch.Tensor, C: torch.Tensor, csls_k: int, *, chunk_size: int = 4096) -> torch.Tensor:
    """Dense CSLS matrix (nQ, nC) with both neighbourhoods taken within ``Q`` and ``C`` (chunked)."""
    r_c = row_neighbourhood_mean(C, Q, csls_k, chunk_size=chunk_size)
    out = torch.empty(len(Q), len(C), dtype=Q.dtype, device=Q.device)
    for rows in row_chunks(len(Q), len(C), chunk_size):
        cos = Q[rows] @ C.T
        out[rows] = csls_from_cosine(cos, topk_mean(cos, csls_k), r_c)
    return out


def one_to_one_hits(
    E1: torch.Tensor,
    E2: torch.Tensor,
    test: np.ndarray,
    *,
    csls_k: int = 3,
    chunk_size: int = 4096,
    max_elements: int = MAX_ONE_TO_ONE_ELEMENTS,
    support_k: int = 32,
) -> float:
    """Hits@1 of one-to-one decoding of the standard l2r CSLS matrix (test sources x test targets).

    Dense (exact Hungarian / Sinkhorn on the full matrix) while the matrix has at most
    ``max_elements`` entries, else sparse on the ``support_k`` best entries of every row and column
    (see the module docstring); no block larger than ``max_elements`` is ever materialised.
    """
    query_ids, cand_ids = np.unique(test[:, 0]), np.unique(test[:, 1])
    gold = GoldIndex.build(test, query_ids, cand_ids)
    Q = E1[torch.as_tensor(query_ids, device=E1.device)]
    C = E2[torch.as_tensor(cand_ids, device=E2.device)]
    if len(query_ids) * len(cand_ids) <= max_elements:
        S = csls_matrix(Q, C, csls_k, chunk_size=chunk_size)
        broken = torch.isnan(S).any(dim=1).cpu().numpy()  # NaN rows count as wrong (never as lucky ties)
        if broken.any():
            S = torch.nan_to_num(S, nan=-5.0)  # below any CSLS value (>= -4)
        matched = one_to_one_matching(S)
        del S
    else:
        log.info("one-to-one decoding of %d x %d on a sparse top-%d support", len(Q), len(C), support_k)
        rows, cols, scores, broken = csls_topk_support(
            Q, C, csls_k, support_k, chunk_size=chunk_size, max_elements=min(max_elements, MAX_BLOCK_ELEMENTS)
        )
        matched = sparse_one_to_one(rows, cols, scores, (len(Q), len(C)))
    hits = gold.contains(matched[:, 0], matched[:, 1]) & ~broken[matched[:, 0]]
    return float(hits.sum() / len(query_ids))


def csls_topk_support(
    Q: torch.Tensor,
    C: torch.Tensor,
    csls_k: int,
    support_k: int,
    *,
    chunk_size: int = 4096,
    max_elements: int = MAX_BLOCK_ELEMENTS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unique edges ``(rows, cols, csls)``: every row's and every column's ``support_k`` best CSLS
    entries of ``Q`` x ``C``, computed in row blocks of at most ``max_elements`` scores (a running
    per-column top-k is merged block by block, memory O(support_k x |C|)). Also returns the bool
    mask of rows with a NaN score (their scores are replaced by -5, below any CSLS value)."""
    nq, nc = len(Q), len(C)
    k1, k2 = min(support_k, nc), min(support_k, nq)
    r_c = row_neighbourhood_mean(C, Q, csls_k, chunk_size=chunk_size, max_elements=max_elements)
    col_vals = torch.full((0, nc), float("-inf"), dtype=Q.dtype, device=Q.device)
    col_rows = torch.zeros((0, nc), dtype=torch.long, device=Q.device)
    row_edges, row_scores = [], []
    broken = np.zeros(nq, dtype=bool)
    for rows in row_chunks(nq, nc, chunk_size, max_elements):
        cos = Q[rows] @ C.T
        r_q = topk_mean(cos, csls_k)
        s = cos.mul_(2.0).sub_(r_q[:, None]).sub_(r_c[None, :])  # CSLS in place
        bad = torch.isnan(s).any(dim=1)
        if bool(bad.any()):
            broken[rows] = bad.cpu().numpy()
            s = torch.nan_to_num_(s, nan=-5.0)
        top = s.topk(k1, dim=1)
        row_edges.append(
            torch.stack([torch.arange(rows.start, rows.stop, device=Q.device).repeat_interleave(k1),
                         top.indices.reshape(-1)], 1).cpu()
        )  # fmt: skip
        row_scores.append(top.values.reshape(-1).cpu())
        block = s.topk(min(k2, s.shape[0]), dim=0)
        merged_vals = torch.cat([col_vals, block.values])
        merged_rows = torch.cat([col_rows, block.indices + rows.start])
        best = merged_vals.topk(min(k2, len(merged_vals)), dim=0)
        col_vals, col_rows = best.values, merged_rows.gather(0, best.indices)
        del cos, s
    cols_all = torch.arange(nc, device=Q.device).repeat(len(col_vals))
    col_edges = torch.stack([col_rows.reshape(-1), cols_all], 1).cpu()
    edges = torch.cat(row_edges + [col_edges]).numpy()
    scores = torch.cat(row_scores + [col_vals.reshape(-1).cpu()]).numpy()
    _, first = np.unique(edges[:, 0] * nc + edges[:, 1], return_index=True)
    return edges[first, 0], edges[first, 1], scores[first].astype(np.float64), broken


def validation_mrr(
    emb_or_arrays: Embeddings | tuple[Any, Any], pairs: Any, csls_k: int = 3, candidates: Any = None
) -> float:
    """MRR of KG1 → KG2 CSLS ranking of ``pairs`` among their own targets (standard protocol), or
    among ``candidates`` (KG2 ids, which must hold every target of ``pairs``) when given.

    Cheap enough for every epoch (one chunked pass over a validation-sized matrix). Accepts an
    :class:`Embeddings` or ``(E1, E2)`` numpy arrays / torch tensors (any device; rows are
    normalised here); ``pairs`` is an int (k, 2) array of ``(KG1 entity, KG2 entity)``.
    """
    E1, E2 = emb_or_arrays.joint if isinstance(emb_or_arrays, Embeddings) else emb_or_arrays
    pairs = np.asarray(pairs.cpu() if isinstance(pairs, torch.Tensor) else pairs, dtype=np.int64).reshape(
        -1, 2
    )
    if len(pairs) == 0:
        return float("nan")
    with torch.no_grad():
        A, B = normalize_rows(E1), normalize_rows(E2)
        cand = np.unique(pairs[:, 1]) if candidates is None else np.asarray(candidates, dtype=np.int64)
        ranks = rank_queries(A, B, pairs, cand, csls_k=csls_k)
    return metrics_from_ranks(ranks["csls"])["mrr"]
