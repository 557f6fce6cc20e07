"""One-to-one decoding of a similarity matrix (each row and each column used at most once).

Nearest-neighbour ranking lets several sources pick the same target; entity alignment between two
clean KGs is (almost) one-to-one, so a global matching usually fixes some of those collisions.

- ``"hungarian"``: the exact maximum-weight assignment ``max_π Σ_i S[i, π(i)]``
  (``scipy.optimize.linear_sum_assignment``, O(n³): used up to ``max_hungarian`` rows/columns).
- ``"sinkhorn"``: the entropic OT plan with uniform marginals on cost ``-S`` (log-domain Sinkhorn,
  ``log T_ij = S_ij/ε + u_i + v_j``), then greedy decoding of ``log T``: in rounds, every free row
  proposes its best free column, proposals are taken in decreasing order and a column goes to the
  first row that asks for it. The plan's normalisation plays the role of CSLS against hubs.
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
    max_iter: int = 100,
    tol: float = 1e-4,
) -> np.ndarray:
    """Global one-to-one matching maximising similarity.

    Args:
        similarity: (n1, n2) scores, higher is better (cosine, CSLS, ...).
        method: ``"auto"`` (Hungarian when both sides are ≤ ``max_hungarian``, Sinkhorn otherwise),
            ``"hungarian"`` or ``"sinkhorn"``.
        reg, max_iter, tol: Sinkhorn's entropic regularisation (in similarity units), iteration cap
            and tolerance on the column-marginal violation (relative).

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
    return _greedy_decode(_sinkhorn_log_plan(S, reg, max_iter, tol))


def _hungarian(S: np.ndarray) -> np.ndarray:
    rows, cols = linear_sum_assignment(S.astype(np.float64), maximize=True)
    pairs = np.stack([rows, cols], axis=1).astype(np.int64)
    return pairs[np.argsort(pairs[:, 0], kind="stable")]


def _sinkhorn_log_plan(
    S: torch.Tensor, reg: float, max_iter: int, tol: float, chunk_size: int = 1024
) -> torch.Tensor:
    """``log T`` (n1, n2) of the entropic plan for cost ``-S``, uniform marginals, float32.

    Alternates ``u = log a - LSE_j(K_ij + v_j)`` and ``v = log b - LSE_i(K_ij + u_i)`` with
    ``K = S/ε``; stops when ``max_j |n2·Σ_i T_ij - 1| < tol``. The log-sum-exps run over row
    chunks, so memory is one (n1, n2) matrix plus a chunk.
    """
    if not reg > 0:
        raise ValueError(f"reg must be > 0, got {reg}")
    n1, n2 = S.shape
    K = S / reg  # a copy: the caller's matrix is left alone
    log_a, log_b = -float(np.log(n1)), -float(np.log(n2))
    u = torch.zeros(n1)
    v = torch.zeros(n2)
    for _ in range(max_iter):
        u = log_a - _chunked_row_lse(K, v, chunk_size)
        col_lse = _chunked_row_lse(K.T, u, chunk_size)
        # column-marginal violation of the current plan (rows are exact after the u update)
        if float((torch.exp(col_lse + v - log_b) - 1).abs().max()) < tol:
            break
        v = log_b - col_lse
    K += u[:, None]
    K += v[None, :]
    return K


def _chunked_row_lse(K: torch.Tensor, add: torch.Tensor, chunk_size: int) -> torch.Tensor:
    """``logsumexp(K + add[None, :], dim=1)`` over row chunks (``K`` may be a transposed view)."""
    out = torch.empty(K.shape[0], dtype=K.dtype)
    for start in range(0, K.shape[0], chunk_size):
        stop = min(start + chunk_size, K.shape[0])
        out[start:stop] = torch.logsumexp(K[start:stop] + add[None, :], dim=1)
    return out


def _greedy_decode(scores: torch.Tensor) -> np.ndarray:
    """Greedy one-to-one decoding by rounds of best-free-column proposals (see module docstring).

    ``scores`` is overwritten (taken columns are set to -inf).
    """
    n1, n2 = scores.shape
    free_rows = torch.ones(n1, dtype=torch.bool)
    free_cols = torch.ones(n2, dtype=torch.bool)
    pairs: list[np.ndarray] = []
    neg_inf = torch.tensor(float("-inf"))
    while free_rows.any() and free_cols.any():
        rows = torch.nonzero(free_rows).squeeze(1)
        best_val, best_col = scores[rows].max(dim=1)
        order = torch.argsort(best_val, descending=True, stable=True)
        rows, best_col = rows[order].numpy(), best_col[order].numpy()
        # first proposal per column wins (proposals are in decreasing score order)
        _, first = np.unique(best_col, return_index=True)
        taken = np.stack([rows[first], best_col[first]], axis=1)
        pairs.append(taken)
        free_rows[taken[:, 0]] = False
        free_cols[taken[:, 1]] = False
        scores[:, taken[:, 1]] = neg_inf
    out = np.concatenate(pairs).astype(np.int64) if pairs else np.zeros((0, 2), dtype=np.int64)
    return out[np.argsort(out[:, 0], kind="stable")]
