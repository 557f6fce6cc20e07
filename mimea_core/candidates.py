"""Candidate alignment pairs: top-k targets per source entity, with per-modality explanations.

Scores are CSLS (``2cos(x, y) - r_T(x) - r_S(y)``, see :mod:`mimea_core.evaluation.similarity`)
over the *pools*: all KG1 entities not excluded and all KG2 entities not excluded. A requested
source outside the KG1 pool is scored against the KG2 pool but does not enter ``r_S``, so a
source's scores never depend on which other sources were asked for. ``csls_k=0`` scores with plain cosine. Everything is computed in row blocks of at
most ``chunk_size`` rows and ``MAX_BLOCK_ELEMENTS`` scores, in two passes over the pools (CSLS
neighbourhoods, then scores + top-k + each target's best source), so memory grows with the number
of entities, never with their square: 200k x 200k entities fit in a few hundred MB
(``benchmarks/candidates_memory.py``).

Columns of the returned table (one row per source and candidate):

- ``source``, ``target``: local entity ids in KG1 / KG2; ``rank``: 1..top_k; ``score``: CSLS.
- ``margin``: the source's rank-1 score minus its rank-2 score (same on all its rows; NaN when
  there is a single candidate) — a small margin means an ambiguous source.
- ``mutual_nn``: this is the source's rank-1 target and no source of the KG1 pool scores higher
  with that target (ties count as mutual).
- ``one_to_one``: the pair is kept by a global one-to-one decoding of the suggested edges
  (:func:`~mimea_core.alignment.sparse_one_to_one`: Sinkhorn on the candidate graph, then greedy).
- per modality ``m``: ``sim_m`` (cosine in that modality's space; NaN when either entity lacks the
  modality), ``w1_m``/``w2_m`` (fusion weights of source/target), ``wvar1_m``/``wvar2_m`` (their
  Beta variances).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from mimea_core.alignment import sparse_one_to_one
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation.similarity import (
    csls_from_cosine,
    neighbourhood_means,
    normalize_rows,
    row_chunks,
    row_neighbourhood_mean,
)

BASE_COLUMNS = ("source", "target", "rank", "score", "margin", "mutual_nn", "one_to_one")


def suggest(
    emb: Embeddings,
    top_k: int = 10,
    sources: Sequence[int] | np.ndarray | None = None,
    exclude_kg1: Sequence[int] | np.ndarray | None = None,
    exclude_kg2: Sequence[int] | np.ndarray | None = None,
    csls_k: int = 3,
    chunk_size: int = 4096,
) -> pd.DataFrame:
    """Top-``top_k`` KG2 candidates for each source entity of KG1 (see the module docstring).

    Args:
        emb: embeddings of both KGs.
        top_k: candidates per source.
        sources: KG1 ids to suggest for (default: every KG1 entity not in ``exclude_kg1``).
        exclude_kg1, exclude_kg2: ids left out of the pools (e.g. the training seeds).
        csls_k: CSLS neighbourhood size; 0 for plain cosine.
        chunk_size: most rows of a score block.

    Returns:
        A DataFrame with ``BASE_COLUMNS`` then, per modality, ``sim_m, w1_m, w2_m, wvar1_m, wvar2_m``;
        rows ordered by source (in the order given) then rank.
    """
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    n1, n2 = emb.num_entities
    pool1 = _pool(n1, exclude_kg1, "exclude_kg1")
    pool2 = _pool(n2, exclude_kg2, "exclude_kg2")
    if sources is None:
        queries = pool1
    else:
        queries = _ids(sources, n1, "sources")
        queries = queries[np.sort(np.unique(queries, return_index=True)[1])]  # dedupe, keep order
    if len(queries) == 0 or len(pool2) == 0:
        return _empty_frame(emb.modalities)
    k = min(max(top_k, 2), len(pool2))  # at least 2 for the margin

    with torch.no_grad():
        E1 = normalize_rows(emb.joint[0])
        P1 = E1[torch.from_numpy(pool1)]
        P2 = normalize_rows(emb.joint[1])[torch.from_numpy(pool2)]
        if csls_k > 0:
            r1, r2 = neighbourhood_means(P1, P2, csls_k, chunk_size=chunk_size)
        else:
            r1, r2 = torch.zeros(len(pool1)), torch.zeros(len(pool2))
        in_pool = np.isin(queries, pool1)
        top_scores = np.empty((len(queries), k), dtype=np.float32)
        top_idx = np.empty((len(queries), k), dtype=np.int64)
        best_val = _score_pass(
            P1,
            r1,
            P2,
            r2,
            csls_k,
            np.searchsorted(pool1, queries[in_pool]),
            k,
            chunk_size,
            out=(top_scores, top_idx, np.flatnonzero(in_pool)),
        )
        extra = np.flatnonzero(~in_pool)  # requested sources outside the pool: scored, not in r_S
        if len(extra):
            Q = E1[torch.from_numpy(queries[extra])]
            r_q = row_neighbourhood_mean(Q, P2, csls_k, chunk_size=chunk_size)
            _score_pass(
                Q, r_q, P2, r2, csls_k, np.arange(len(extra)), k, chunk_size, out=(top_scores, top_idx, extra)
            )

    source = np.repeat(queries, k)
    target_pos = top_idx.reshape(-1)
    score = top_scores.reshape(-1).astype(np.float64)
    rank = np.tile(np.arange(1, k + 1), len(queries))
    margin = top_scores[:, 0] - top_scores[:, 1] if k > 1 else np.full(len(queries), np.nan)
    mutual = (rank == 1) & (score >= best_val[target_pos])
    keep = rank <= top_k
    frame = pd.DataFrame(
        {
            "source": source[keep],
            "target": pool2[target_pos][keep],
            "rank": rank[keep].astype(np.int64),
            "score": score[keep],
            "margin": np.repeat(margin.astype(np.float64), k)[keep],
            "mutual_nn": mutual[keep],
        }
    )
    frame["one_to_one"] = _one_to_one_flags(frame, n1, n2)
    return _add_modality_columns(frame, emb)


def _score_pass(
    A: torch.Tensor,
    r_a: torch.Tensor,
    P2: torch.Tensor,
    r2: torch.Tensor,
    csls_k: int,
    query_pos: np.ndarray,
    k: int,
    chunk_size: int,
    *,
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """One chunked pass over ``A x P2``: writes the top-k of rows ``query_pos`` of ``A`` into
    ``out = (scores, pool2 positions, output rows)`` and returns each target's best score over ``A``."""
    top_scores, top_idx, out_rows = out
    best_val = torch.full((len(P2),), float("-inf"))
    order = np.argsort(query_pos, kind="stable")
    sorted_pos = query_pos[order]
    for rows in row_chunks(len(A), len(P2), chunk_size):
        cos = A[rows] @ P2.T
        scores = csls_from_cosine(cos, r_a[rows], r2) if csls_k > 0 else cos
        del cos
        best_val = torch.maximum(best_val, scores.max(dim=0).values)
        lo, hi = np.searchsorted(sorted_pos, [rows.start, rows.stop])
        if hi > lo:
            top = scores[torch.from_numpy(sorted_pos[lo:hi] - rows.start)].topk(k, dim=1)
            dest = out_rows[order[lo:hi]]
            top_scores[dest] = top.values.numpy()
            top_idx[dest] = top.indices.numpy()
    return best_val.numpy()


def _one_to_one_flags(frame: pd.DataFrame, n1: int, n2: int) -> np.ndarray:
    matched = sparse_one_to_one(
        frame["source"].to_numpy(), frame["target"].to_numpy(), frame["score"].to_numpy(), (n1, n2)
    )
    keys = frame["source"].to_numpy() * n2 + frame["target"].to_numpy()
    return np.isin(keys, matched[:, 0] * n2 + matched[:, 1])


def _add_modality_columns(frame: pd.DataFrame, emb: Embeddings) -> pd.DataFrame:
    src = frame["source"].to_numpy()
    tgt = frame["target"].to_numpy()
    columns: dict[str, np.ndarray] = {}
    for m in emb.modalities:
        columns[f"sim_{m}"] = _pair_cosine(emb, m, src, tgt)
        for prefix, table in (("w", emb.weights), ("wvar", emb.weight_var)):
            pair = table.get(m)
            for side, ids in ((0, src), (1, tgt)):
                name = f"{prefix}{side + 1}_{m}"
                columns[name] = (
                    np.asarray(pair[side], dtype=np.float64)[ids]
                    if pair is not None
                    else np.full(len(ids), np.nan)
                )
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index)], axis=1) if columns else frame


def _pair_cosine(emb: Embeddings, modality: str, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (source, target) in one modality's space; NaN where either lacks it."""
    spaces = emb.per_modality.get(modality)
    if spaces is None:
        return np.full(len(src), np.nan)
    a = normalize_rows(np.asarray(spaces[0])[src])
    b = normalize_rows(np.asarray(spaces[1])[tgt])
    sim = (a * b).sum(dim=1).numpy().astype(np.float64)
    present = emb.present.get(modality)
    if present is not None:
        sim[~(np.asarray(present[0])[src] & np.asarray(present[1])[tgt])] = np.nan
    return sim


def _ids(values: Sequence[int] | np.ndarray, n: int, what: str) -> np.ndarray:
    ids = np.asarray(values, dtype=np.int64).reshape(-1)
    bad = ids[(ids < 0) | (ids >= n)]
    if len(bad):
        raise ValueError(f"{what}: {len(bad)} ids out of range 0..{n - 1}, e.g. {bad[:3].tolist()}")
    return ids


def _pool(n: int, exclude: Sequence[int] | np.ndarray | None, what: str) -> np.ndarray:
    if exclude is None:
        return np.arange(n, dtype=np.int64)
    return np.setdiff1d(np.arange(n, dtype=np.int64), _ids(exclude, n, what))


def _empty_frame(modalities: list[str]) -> pd.DataFrame:
    names = list(BASE_COLUMNS)
    for m in modalities:
        names += [f"sim_{m}", f"w1_{m}", f"w2_{m}", f"wvar1_{m}", f"wvar2_{m}"]
    return pd.DataFrame({name: pd.Series(dtype=_dtype(name)) for name in names})


def _dtype(column: str) -> str:
    if column in ("source", "target", "rank"):
        return "int64"
    if column in ("mutual_nn", "one_to_one"):
        return "bool"
    return "float64"
