"""One-to-one decoding of a similarity matrix (each row and each column used at most once).

Nearest-neighbour ranking lets several sources pick the same target; entity alignment between two
clean KGs is (almost) one-to-one, so a global matching usually fixes some of those collisions.

- ``"hungarian"``: the exact maximum-weight assignment ``max_π Σ_i S[i, π(i)]``
  (``scipy.optimize.linear_sum_assignment``, O(n³): used up to ``max_hungarian`` rows/columns).
- ``"sinkhorn"``: entropic OT with uniform marginals on cost ``-S``, restricted to a sparse support
  (each row's and each column's ``support_k`` best entries, where nearly all of the plan's mass
  lies for small ε): ``log T_e = S_e/ε + u_i + v_j`` by log-domain Sinkhorn over the edges
  (O(n·k) memory and time per iteration, so it scales to graphs where a dense plan does not fit).
  The plan is decoded greedily: edges in decreasing ``log T``, an edge is taken when its row and
  column are both free. Rows left without a free supported column are then matched greedily on
  the similarity itself. The plan's normalisation plays the role of CSLS against hubs.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

METHODS = ("auto", "hungarian", "sinkhorn")


def one_to_one_matching(
    similarity: np.ndarray | torch.Tensor,
    *,
    method: str = "auto",
    max_hungarian: int = 3000,
    reg: float = 0.02,
    max_iter: int = 50,
    tol: float = 1e-3,
    support_k: int = 32,
) -> np.ndarray:
    """Global one-to-one matching maximising similarity.

    Args:
        similarity: (n1, n2) scores, higher is better (cosine, CSLS, ...).
        method: ``"auto"`` (Hungarian when both sides are ≤ ``max_hungarian``, Sinkhorn otherwise),
            ``"hungarian"`` or ``"sinkhorn"``.
        reg, max_iter, tol: Sinkhorn's entropic regularisation (in similarity units), iteration cap
            and tolerance on the marginal violation (relative).
        support_k: Sinkhorn's sparse support: the ``support_k`` best columns of every row and rows
            of every column.

    Returns:
        int64 (min(n1, n2), 2) array of ``(row, column)`` pairs sorted by row; every row and column
        appears at most once.

    Example:
        >>> one_to_one_matching(np.array([[0.9, 0.8], [0.85, 0.1]])).tolist()
        [[0, 1], [1, 0]]
    """
    if method not in METHODS:
        raise ValueError(f"unknown matching method {method!r}; choose one of {', '.join(METHODS)}")
    S = torch.as_tensor(similarity).detach().to("cpu", torch.float32)
    if S.ndim != 2:
        raise ValueError(f"similarity must be 2-d, got shape {tuple(S.shape)}")
    if S.numel() == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if not torch.isfinite(S).all():
        raise ValueError("similarity contains NaN or inf")
    if method == "hungarian" or (method == "auto" and max(S.shape) <= max_hungarian):
        return _hungarian(S.numpy())
    rows, cols = _topk_support(S, support_k)
    pairs = sparse_one_to_one(
        rows.numpy(), cols.numpy(), S[rows, cols].numpy(), S.shape, reg=reg, max_iter=max_iter, tol=tol
    )
    return _complete_greedily(S, pairs)


def sparse_one_to_one(
    rows: np.ndarray,
    cols: np.ndarray,
    scores: np.ndarray,
    shape: tuple[int, int],
    *,
    reg: float = 0.02,
    max_iter: int = 50,
    tol: float = 1e-3,
) -> np.ndarray:
    """One-to-one matching restricted to the given edges (Sinkhorn on the edges, then greedy).

    Args:
        rows, cols, scores: the candidate edges ``(rows[e], cols[e])`` with similarity ``scores[e]``
            (unique edges); rows/columns without an edge are left unmatched.
        shape: ``(n1, n2)``.

    Returns:
        int64 (m, 2) ``(row, column)`` pairs sorted by row, a matching (each row/column at most once)
        that is maximal on the edges.
    """
    rows = np.array(rows, dtype=np.int64)  # copies: torch wants writable arrays
    cols = np.array(cols, dtype=np.int64)
    if len(rows) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    log_plan = sparse_sinkhorn_log_plan(
        torch.from_numpy(rows),
        torch.from_numpy(cols),
        torch.from_numpy(np.array(scores, dtype=np.float32)),
        shape,
        reg=reg,
        max_iter=max_iter,
        tol=tol,
    )
    return greedy_edge_matching(rows, cols, log_plan.numpy())


def sparse_sinkhorn_log_plan(
    rows: torch.Tensor,
    cols: torch.Tensor,
    scores: torch.Tensor,
    shape: tuple[int, int],
    *,
    reg: float,
    max_iter: int,
    tol: float,
) -> torch.Tensor:
    """``log T_e`` on the edges of the entropic plan for cost ``-scores``, log-domain Sinkhorn.

    Marginals are uniform over the rows and over the columns that have at least one edge. The
    updates ``u_i = log a_i - LSE_{e∈row i}(K_e + v_{c_e})``, ``v_j = log b_j - LSE_{e∈col j}(K_e + u_{r_e})``
    with ``K = scores/ε`` use segment log-sum-exps; iteration stops when the column marginals are
    within ``tol`` (relative) or after ``max_iter`` (a sparse support may admit no exact plan).
    """
    if not reg > 0:
        raise ValueError(f"reg must be > 0, got {reg}")
    n1, n2 = shape
    K = scores / reg
    has_row = torch.zeros(n1, dtype=torch.bool).index_fill_(0, rows, True)
    has_col = torch.zeros(n2, dtype=torch.bool).index_fill_(0, cols, True)
    log_a = -float(np.log(int(has_row.sum())))
    log_b = -float(np.log(int(has_col.sum())))
    u = torch.zeros(n1)
    v = torch.zeros(n2)
    for _ in range(max_iter):
        u = log_a - _segment_lse(K + v[cols], rows, n1)
        col_lse = _segment_lse(K + u[rows], cols, n2)
        violation = (torch.exp(col_lse + v - log_b) - 1).abs()
        if float(violation[has_col].max()) < tol:
            break
        v = log_b - col_lse
    return K + u[rows] + v[cols]


def _segment_lse(values: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """``out[s] = log Σ_{e: index[e]=s} exp(values[e])`` (``-inf`` for empty segments)."""
    peak = torch.full((size,), float("-inf")).scatter_reduce(0, index, values, reduce="amax")
    safe = torch.where(torch.isfinite(peak), peak, torch.zeros_like(peak))
    total = torch.zeros(size).index_add_(0, index, torch.exp(values - safe[index]))
    return safe + torch.log(total)


def greedy_edge_matching(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Greedy matching: edges in decreasing weight, taken when row and column are both free."""
    order = np.argsort(-np.asarray(weights, dtype=np.float64), kind="stable")
    used_rows: set[int] = set()
    used_cols: set[int] = set()
    pairs = []
    for r, c in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if r not in used_rows and c not in used_cols:
            used_rows.add(r)
            used_cols.add(c)
            pairs.append((r, c))
    out = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return out[np.argsort(out[:, 0], kind="stable")]


def _hungarian(S: np.ndarray) -> np.ndarray:
    rows, cols = linear_sum_assignment(S.astype(np.float64), maximize=True)
    pairs = np.stack([rows, cols], axis=1).astype(np.int64)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


def _topk_support(S: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Unique edges: each row's ``k`` best columns and each column's ``k`` best rows."""
    n1, n2 = S.shape
    k1, k2 = min(k, n2), min(k, n1)
    row_top = S.topk(k1, dim=1).indices
    col_top = S.topk(k2, dim=0).indices
    rows = torch.cat([torch.arange(n1).repeat_interleave(k1), col_top.reshape(-1)])
    cols = torch.cat([row_top.reshape(-1), torch.arange(n2).repeat(k2)])
    key = torch.unique(rows * n2 + cols)
    return key // n2, key % n2


def _complete_greedily(S: torch.Tensor, pairs: np.ndarray) -> np.ndarray:
    """Extend a partial matching to size min(n1, n2) by greedy rounds on ``S`` over the free rows/columns."""
    n1, n2 = S.shape
    free_rows = np.setdiff1d(np.arange(n1), pairs[:, 0])
    free_cols = np.setdiff1d(np.arange(n2), pairs[:, 1])
    if len(free_rows) == 0 or len(free_cols) == 0:
        return pairs
    sub = S[torch.from_numpy(free_rows)][:, torch.from_numpy(free_cols)]
    extra = _greedy_rounds(sub)
    extra = np.stack([free_rows[extra[:, 0]], free_cols[extra[:, 1]]], axis=1)
    out = np.concatenate([pairs, extra])
    return out[np.argsort(out[:, 0], kind="stable")]


def _greedy_rounds(scores: torch.Tensor, k: int = 64, min_progress: float = 0.01) -> np.ndarray:
    """Greedy decoding in rounds over each free row's ``k`` best free columns.

    A round gathers every free row's top-``k`` free columns, sorts those edges by decreasing score
    and takes an edge when both ends are still free. Rows whose ``k`` columns were all taken try
    again in the next round. Degenerate scores (many rows preferring the same columns, e.g. a
    collapsed model with ties everywhere) make rounds match few rows; once a round matches fewer
    than ``min_progress`` of the free rows, the rest are paired in order of their best scores, so
    the work stays O(rounds x n1 x n2) with a small number of rounds instead of O(n1^2 x n2).
    ``scores`` is not modified.
    """
    n1, n2 = scores.shape
    free_rows = np.arange(n1)
    free_cols = np.arange(n2)
    pairs: list[np.ndarray] = []
    while len(free_rows) and len(free_cols):
        sub = scores[torch.from_numpy(free_rows)][:, torch.from_numpy(free_cols)]
        kk = min(k, len(free_cols))
        vals, idx = sub.topk(kk, dim=1)
        order = torch.argsort(vals.reshape(-1), descending=True, stable=True).numpy()
        edge_rows = order // kk
        edge_cols = idx.reshape(-1).numpy()[order]
        row_used = np.zeros(len(free_rows), dtype=bool)
        col_used = np.zeros(len(free_cols), dtype=bool)
        taken = []
        for r, c in zip(edge_rows.tolist(), edge_cols.tolist(), strict=True):
            if not row_used[r] and not col_used[c]:
                row_used[r] = col_used[c] = True
                taken.append((r, c))
        taken_arr = np.asarray(taken, dtype=np.int64).reshape(-1, 2)
        pairs.append(np.stack([free_rows[taken_arr[:, 0]], free_cols[taken_arr[:, 1]]], axis=1))
        progress = len(taken_arr) / len(free_rows)
        free_rows, free_cols = free_rows[~row_used], free_cols[~col_used]
        if progress < min_progress and len(free_rows) and len(free_cols):
            # Ties everywhere: pair the rest by best remaining score (an arbitrary but valid matching).
            sub = scores[torch.from_numpy(free_rows)][:, torch.from_numpy(free_cols)]
            row_order = torch.argsort(sub.max(dim=1).values, descending=True, stable=True).numpy()
            col_order = torch.argsort(sub.max(dim=0).values, descending=True, stable=True).numpy()
            m = min(len(free_rows), len(free_cols))
            pairs.append(np.stack([free_rows[row_order[:m]], free_cols[col_order[:m]]], axis=1))
            break
    out = np.concatenate(pairs).astype(np.int64) if pairs else np.zeros((0, 2), dtype=np.int64)
    return out[np.argsort(out[:, 0], kind="stable")]
