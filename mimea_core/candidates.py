"""Candidate alignment pairs: top-k targets per source entity, with per-modality explanations.

Scores are CSLS (``2cos(x, y) - r_T(x) - r_S(y)``, see :mod:`mimea_core.evaluation.similarity`)
over the *pools*: all KG1 entities not excluded and all KG2 entities not excluded. A requested
source outside the KG1 pool is scored against the KG2 pool but does not enter ``r_S``, so a
source's scores never depend on which other sources were asked for. ``csls_k=0`` scores with plain cosine. Everything is computed in row blocks of at
most ``chunk_size`` rows and ``MAX_BLOCK_ELEMENTS`` scores, in three passes over the pools (the two
CSLS neighbourhoods, then scores + top-k + each target's best source in one matrix product per
block, see ``_augment``), so memory grows with the number
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
- per modality ``m`` (float32): ``sim_m`` (cosine in that modality's space; NaN when either entity
  lacks the modality), ``w1_m``/``w2_m`` (fusion weights of source/target), ``wvar1_m``/``wvar2_m``
  (their Beta variances).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from mimea_core.alignment import sparse_one_to_one
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation.similarity import normalize_rows, row_chunks, row_neighbourhood_mean
from mimea_core.retrieval import CHOICES, InnerProductIndex, LazyRows, resolve_method

BASE_COLUMNS = ("source", "target", "rank", "score", "margin", "mutual_nn", "one_to_one")
PAIR_BLOCK = 1 << 18  # (source, target) rows per block of the per-modality cosines


def suggest(
    emb: Embeddings,
    top_k: int = 10,
    sources: Sequence[int] | np.ndarray | None = None,
    exclude_kg1: Sequence[int] | np.ndarray | None = None,
    exclude_kg2: Sequence[int] | np.ndarray | None = None,
    csls_k: int = 3,
    chunk_size: int = 4096,
    device: str | torch.device = "cpu",
    retrieval: str = "exact",
    nprobe: int = 32,
) -> pd.DataFrame:
    """Top-``top_k`` KG2 candidates for each source entity of KG1 (see the module docstring).

    Args:
        emb: embeddings of both KGs.
        top_k: candidates per source.
        sources: KG1 ids to suggest for (default: every KG1 entity not in ``exclude_kg1``).
        exclude_kg1, exclude_kg2: ids left out of the pools (e.g. the training seeds).
        csls_k: CSLS neighbourhood size; 0 for plain cosine.
        chunk_size: most rows of a score block.
        device: where the exact score blocks are computed (``"cuda"``: on the GPU, in torch); faiss
            searches run on the CPU (faiss-cpu).
        retrieval: ``"exact"`` (chunked products), ``"faiss"`` (approximate inverted-file search
            over the same CSLS inner products, :mod:`mimea_core.retrieval`; needs ``faiss-cpu``) or
            ``"faiss-sq8"`` (the same with 8-bit codes: a quarter of the index memory, the rows
            found re-scored exactly). With faiss the CSLS neighbourhoods, the top-k and each
            target's best source (for ``mutual_nn``) are all searched approximately; ``nprobe``
            cells are searched per query. ``"auto"``: exact on a GPU or up to
            :data:`~mimea_core.retrieval.AUTO_EXACT_MAX_PAIRS` source-target pairs, else ``"faiss"``
            when it is installed (:func:`~mimea_core.retrieval.resolve_method`).

    Returns:
        A DataFrame with ``BASE_COLUMNS`` then, per modality, ``sim_m, w1_m, w2_m, wvar1_m, wvar2_m``;
        rows ordered by source (in the order given) then rank; ``attrs["retrieval"]`` names the
        search used (what ``"auto"`` resolved to).
    """
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if retrieval not in CHOICES:
        raise ValueError(f"unknown retrieval {retrieval!r}; choose one of {', '.join(CHOICES)}")
    n1, n2 = emb.num_entities
    pool1 = _pool(n1, exclude_kg1, "exclude_kg1")
    pool2 = _pool(n2, exclude_kg2, "exclude_kg2")
    if sources is None:
        queries = pool1
    else:
        queries = _ids(sources, n1, "sources")
        queries = queries[np.sort(np.unique(queries, return_index=True)[1])]  # dedupe, keep order
    retrieval = resolve_method(retrieval, len(queries), len(pool2), device)
    if len(queries) == 0 or len(pool2) == 0:
        return _with_search(_empty_frame(emb.modalities), retrieval)
    k = min(max(top_k, 2), len(pool2))  # at least 2 for the margin

    for side, X in enumerate(emb.joint, start=1):
        if not np.isfinite(np.asarray(X)).all():
            raise ValueError(f"KG{side} joint embeddings contain NaN or inf (did training diverge?)")
    with torch.no_grad():
        if retrieval == "exact":
            top_half, top_idx, best_half = _exact_scores(
                emb, pool1, pool2, queries, k, csls_k, chunk_size, device
            )
        else:
            top_half, top_idx, best_half = _approximate_scores(
                emb, pool1, pool2, queries, k, csls_k, method=retrieval, nprobe=nprobe
            )

    factor = 2.0 if csls_k > 0 else 1.0
    frame = ranked_frame(queries, pool2, factor * top_half, top_idx, factor * best_half, top_k, (n1, n2))
    return _with_search(_add_modality_columns(frame, emb), retrieval)


def _with_search(frame: pd.DataFrame, method: str) -> pd.DataFrame:
    """Records in ``frame.attrs["retrieval"]`` the search that ranked it ("auto" resolved)."""
    frame.attrs["retrieval"] = method
    return frame


def ranked_frame(
    queries: np.ndarray,
    pool2: np.ndarray,
    top_scores: np.ndarray,
    top_pos: np.ndarray,
    best_of_target: np.ndarray,
    top_k: int,
    sizes: tuple[int, int],
) -> pd.DataFrame:
    """The ``BASE_COLUMNS`` table from a top-k search (shared by :func:`suggest` and the lexical ranking).

    ``top_scores``/``top_pos`` are ``(len(queries), k)`` with ``k >= min(2, len(pool2))`` sorted best
    first (``top_pos`` indexes ``pool2``); ``best_of_target[j]`` is the best score any pooled source
    gives ``pool2[j]``, for ``mutual_nn``. Rows beyond ``top_k`` (searched for the margin) are dropped.
    """
    k = top_scores.shape[1]
    target_pos = top_pos.reshape(-1)
    score = top_scores.reshape(-1).astype(np.float64)
    rank = np.tile(np.arange(1, k + 1), len(queries))
    margin = top_scores[:, 0] - top_scores[:, 1] if k > 1 else np.full(len(queries), np.nan)
    mutual = (rank == 1) & (score >= np.asarray(best_of_target, dtype=np.float64)[target_pos] - 1e-9)
    keep = rank <= top_k
    frame = pd.DataFrame(
        {
            "source": np.repeat(queries, k)[keep],
            "target": pool2[target_pos][keep],
            "rank": rank[keep].astype(np.int64),
            "score": score[keep],
            "margin": np.repeat(np.asarray(margin, dtype=np.float64), k)[keep],
            "mutual_nn": mutual[keep],
        }
    )
    frame["one_to_one"] = _one_to_one_flags(frame, *sizes)
    return frame


def _augment(X: torch.Tensor, r: torch.Tensor, *, side: int, csls: bool) -> torch.Tensor:
    """Rows ``[x, 1, -r(x)/2]`` (side 1) or ``[y, -r(y)/2, 1]`` (side 2), so that one matrix product
    gives ``x'·y' = cos(x, y) - r(x)/2 - r(y)/2 = CSLS(x, y)/2`` with no elementwise pass over the
    scores. Without CSLS the two extra columns are 0 and the product is the cosine."""
    out = torch.cat([X, torch.zeros(len(X), 2, dtype=X.dtype, device=X.device)], dim=1)
    if csls:
        _fill_csls_columns(out, r, side=side)
    return out


def _fill_csls_columns(X, r, *, side: int) -> None:
    """Writes the two trailing columns of :func:`_augment`'s layout into ``X`` (tensor or array), in place."""
    one, half = (-2, -1) if side == 1 else (-1, -2)
    X[:, one] = 1.0
    X[:, half] = -r / 2


def _score_pass(
    A: torch.Tensor,
    B: torch.Tensor,
    query_pos: np.ndarray,
    k: int,
    chunk_size: int,
    *,
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
) -> np.ndarray:
    """One chunked pass over ``A Bᵀ``: writes the top-k of rows ``query_pos`` of ``A`` into
    ``out = (scores, column positions, output rows)`` and returns each column's best score."""
    top_scores, top_idx, out_rows = out
    best = torch.full((len(B),), float("-inf"), dtype=B.dtype, device=B.device)
    order = np.argsort(query_pos, kind="stable")
    sorted_pos = query_pos[order]
    for rows in row_chunks(len(A), len(B), chunk_size):
        scores = A[rows] @ B.T
        best = torch.maximum(best, scores.max(dim=0).values)
        lo, hi = np.searchsorted(sorted_pos, [rows.start, rows.stop])
        if hi > lo:
            top = scores[torch.from_numpy(sorted_pos[lo:hi] - rows.start).to(scores.device)].topk(k, dim=1)
            dest = out_rows[order[lo:hi]]
            top_scores[dest] = top.values.cpu().numpy()
            top_idx[dest] = top.indices.cpu().numpy()
    return best.cpu().numpy()


def _exact_scores(emb, pool1, pool2, queries, k, csls_k, chunk_size, device):
    """Exact CSLS/2 top-k of ``queries`` among the KG2 pool and each target's best pool-1 score, by
    chunked products of augmented rows (:func:`_augment`) on ``device``: ``(top scores, top
    positions, best per target)``. Each unit-row copy is dropped as soon as its augmented one exists."""
    E1 = normalize_rows(emb.joint[0]).to(device)
    P1 = E1[torch.from_numpy(pool1).to(E1.device)]
    P2 = normalize_rows(emb.joint[1]).to(device)[torch.from_numpy(pool2).to(E1.device)]
    r1 = row_neighbourhood_mean(P1, P2, csls_k, chunk_size=chunk_size)
    r2 = row_neighbourhood_mean(P2, P1, csls_k, chunk_size=chunk_size)
    targets = _augment(P2, r2, side=2, csls=csls_k > 0)
    del P2
    in_pool = np.isin(queries, pool1)
    top_half = np.empty((len(queries), k), dtype=np.float32)
    top_idx = np.empty((len(queries), k), dtype=np.int64)
    best_half = _score_pass(_augment(P1, r1, side=1, csls=csls_k > 0), targets,
                            np.searchsorted(pool1, queries[in_pool]), k, chunk_size,
                            out=(top_half, top_idx, np.flatnonzero(in_pool)))  # fmt: skip
    del P1
    extra = np.flatnonzero(~in_pool)  # requested sources outside the pool: scored, not in r_S
    if len(extra):
        Q = E1[torch.from_numpy(queries[extra]).to(E1.device)]
        r_q = row_neighbourhood_mean(Q, targets[:, :-2], csls_k, chunk_size=chunk_size)
        _score_pass(_augment(Q, r_q, side=1, csls=csls_k > 0), targets, np.arange(len(extra)), k, chunk_size,
                    out=(top_half, top_idx, extra))  # fmt: skip
    return top_half, top_idx, best_half


def _approximate_scores(emb, pool1, pool2, queries, k, csls_k, *, method, nprobe):
    """As :func:`_exact_scores`, each search approximate (:class:`~mimea_core.retrieval.InnerProductIndex`).

    The pools are never copied whole: their rows are made block by block (:class:`LazyRows`) as unit
    rows with the two columns of :func:`_augment`, first left at 0 (so inner products are cosines).
    One cosine index per side (one k-means each) gives the CSLS neighbourhood means ``r``; it is
    then dropped and the CSLS index built over the augmented rows in the same cells. Memory: one
    index (a float32 copy of the pool, or its 8-bit codes with ``"faiss-sq8"``) per side, O(n·d).
    """
    csls = csls_k > 0
    joint1, joint2 = emb.joint
    in_pool = np.isin(queries, pool1)
    extra = queries[~in_pool]  # requested sources outside the pool: scored, not in r_S
    S, T, Q = _unit_rows(joint1, pool1), _unit_rows(joint2, pool2), _unit_rows(joint1, extra)
    index_t = InnerProductIndex(T, method=method, nprobe=nprobe)  # cosine: the padding columns are 0
    index_s = InnerProductIndex(S, method=method, nprobe=nprobe)
    if csls:
        r1, r_q, r2 = (
            _neighbourhood_means(i, X, csls_k) for i, X in ((index_t, S), (index_t, Q), (index_s, T))
        )
        S, Q, T = _unit_rows(joint1, pool1, r1, 1), _unit_rows(joint1, extra, r_q, 1), _unit_rows(joint2, pool2, r2, 2)
        cells_s, cells_t = index_s.cells, index_t.cells
        del index_s, index_t  # their copies of the cosine rows, before the augmented ones are made
        index_s = InnerProductIndex(S, method=method, nprobe=nprobe, cells=cells_s)
        index_t = InnerProductIndex(T, method=method, nprobe=nprobe, cells=cells_t)
    best_half = (
        index_s.search(T, 1)[0][:, 0]
        if len(S)
        else np.full(len(T), -np.inf, dtype=np.float32)  # no pool-1 source: no target has a best one
    )
    top_half = np.empty((len(queries), k), dtype=np.float32)
    top_idx = np.empty((len(queries), k), dtype=np.int64)
    rows = np.flatnonzero(in_pool)
    top_half[rows], top_idx[rows] = index_t.search(S.take(np.searchsorted(pool1, queries[rows])), k)
    if len(extra):
        top_half[~in_pool], top_idx[~in_pool] = index_t.search(Q, k)
    return top_half, top_idx, best_half


def _neighbourhood_means(index: InnerProductIndex, X: LazyRows, k: int) -> np.ndarray:
    """Mean inner product of each row of ``X`` with its ``k`` best rows of the index (0 if it is empty)."""
    if len(X) == 0 or len(index) == 0:
        return np.zeros(len(X), dtype=np.float32)
    return index.search(X, k)[0].mean(axis=1)


def _unit_rows(X, ids: np.ndarray, r: np.ndarray | None = None, side: int = 1) -> LazyRows:
    """Rows ``ids`` of ``X`` L2-normalised, as float32 with :func:`_augment`'s two trailing columns:
    zeros, or (``r`` given, one value per row of ``ids``) the CSLS columns of ``side``; made on demand."""
    X = np.asarray(X.cpu() if isinstance(X, torch.Tensor) else X)
    ids = np.asarray(ids, dtype=np.int64)

    def make(at: np.ndarray) -> np.ndarray:
        out = np.zeros((len(at), X.shape[1] + 2), dtype=np.float32)
        out[:, :-2] = X[ids[at]]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        if r is not None:
            _fill_csls_columns(out, r[at], side=side)
        return out

    return LazyRows(len(ids), X.shape[1] + 2, make)


def _one_to_one_flags(frame: pd.DataFrame, n1: int, n2: int) -> np.ndarray:
    matched = sparse_one_to_one(
        frame["source"].to_numpy(), frame["target"].to_numpy(), frame["score"].to_numpy(), (n1, n2)
    )
    keys = frame["source"].to_numpy() * n2 + frame["target"].to_numpy()
    return np.isin(keys, matched[:, 0] * n2 + matched[:, 1])


def _add_modality_columns(frame: pd.DataFrame, emb: Embeddings) -> pd.DataFrame:
    """Appends each modality's columns to ``frame`` in place, as float32 (what the model computes
    them in), one column at a time as each is computed: at a million sources and four modalities
    they are 0.7 GB (1.4 GB as float64), and a concatenation would copy the whole table."""
    src = frame["source"].to_numpy()
    tgt = frame["target"].to_numpy()
    for m in emb.modalities:
        frame[f"sim_{m}"] = _pair_cosine(emb, m, src, tgt)
        for prefix, table in (("w", emb.weights), ("wvar", emb.weight_var)):
            pair = table.get(m)
            for side, ids in ((0, src), (1, tgt)):
                frame[f"{prefix}{side + 1}_{m}"] = (
                    np.asarray(pair[side], dtype=np.float32)[ids]
                    if pair is not None
                    else np.full(len(ids), np.nan, dtype=np.float32)
                )
    return frame


def _pair_cosine(emb: Embeddings, modality: str, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (source, target) in one modality's space; NaN where either lacks it."""
    spaces = emb.per_modality.get(modality)
    if spaces is None:
        return np.full(len(src), np.nan, dtype=np.float32)
    a, b = (torch.as_tensor(np.asarray(x)) for x in spaces)
    sim = np.empty(len(src), dtype=np.float32)
    for start in range(0, len(src), PAIR_BLOCK):  # gathered rows in blocks: memory O(n·d), not O(rows·d)
        at = slice(start, start + PAIR_BLOCK)
        rows_a, rows_b = normalize_rows(a[torch.tensor(src[at])]), normalize_rows(b[torch.tensor(tgt[at])])
        sim[at] = (rows_a * rows_b).sum(dim=1).numpy()
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
    return "float64" if column in ("score", "margin") else "float32"
