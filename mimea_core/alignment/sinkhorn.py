"""Entropic optimal transport, wrapped once around POT (``ot.solve``, log-domain Sinkhorn).

The entropic OT problem between histograms ``a`` (n,) and ``b`` (m,) with cost ``M`` (n, m) is

.. math::

    T^* = \\arg\\min_{T \\ge 0,\\ T 1 = a,\\ T^\\top 1 = b} \\langle T, M \\rangle - \\varepsilon H(T),
    \\qquad H(T) = -\\sum_{ij} T_{ij} (\\log T_{ij} - 1),

solved by Sinkhorn iterations in the log domain (stable for small ``reg`` = ε, where the kernel
``exp(-M/ε)`` underflows). POT's backend runs the same code on numpy arrays and torch tensors, so
torch inputs give torch outputs on the same device, differentiable.

Reference: M. Cuturi, "Sinkhorn Distances: Lightspeed Computation of Optimal Transport", NeurIPS 2013.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import ot
import torch
import torch.nn.functional as F

GRAD_MODES = ("autodiff", "last_step", "detach")
LOSS_GRAD_MODES = ("envelope", "autodiff", "last_step")


def _check_reg(reg: float) -> None:
    if not reg > 0:
        raise ValueError(f"reg must be > 0, got {reg}")


def sinkhorn_plan(
    a: Any,
    b: Any,
    M: Any,
    reg: float,
    *,
    max_iter: int = 1000,
    tol: float = 1e-7,
    grad: str = "autodiff",
) -> Any:
    """Entropic OT plan between histograms ``a`` and ``b`` for cost ``M`` (log-domain Sinkhorn).

    Args:
        a: (n,) source weights summing to 1, or ``None`` for uniform ``1/n``.
        b: (m,) target weights summing to 1, or ``None`` for uniform ``1/m``.
        M: (n, m) cost matrix (numpy array or torch tensor).
        reg: entropic regularisation ε > 0; smaller is closer to exact OT and slower to converge.
        max_iter: maximum Sinkhorn iterations.
        tol: stopping threshold on the marginal violation.
        grad: how gradients flow for torch inputs: ``"autodiff"`` differentiates through every
            iteration (exact, memory grows with iterations), ``"last_step"`` only through the last
            iteration (cheap, approximate), ``"detach"`` returns a constant plan.

    Returns:
        The plan ``T`` (n, m), same type, dtype and device as ``M``; ``T.sum(1) ≈ a``, ``T.sum(0) ≈ b``.

    Example:
        >>> M = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
        >>> T = sinkhorn_plan(None, None, M, reg=0.05)
        >>> torch.allclose(T, torch.tensor([[0.5, 0.0], [0.0, 0.5]]), atol=1e-6)
        True
    """
    _check_reg(reg)
    if grad not in GRAD_MODES:
        raise ValueError(f"unknown grad mode {grad!r}; choose one of {', '.join(GRAD_MODES)}")
    res = ot.solve(M, a, b, reg=reg, method="sinkhorn_log", max_iter=max_iter, tol=tol, grad=grad)
    return res.plan


def cosine_cost(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Cosine cost ``C = 1 - X̂ Ŷᵀ`` (n, m) between the rows of X (n, d) and Y (m, d), in [0, 2]."""
    return 1.0 - F.normalize(X, dim=-1) @ F.normalize(Y, dim=-1).T


def ot_loss(
    X: torch.Tensor,
    Y: torch.Tensor,
    reg: float = 0.05,
    *,
    max_iter: int = 200,
    tol: float = 1e-6,
    grad: str = "envelope",
) -> torch.Tensor:
    """OT alignment loss ``⟨T*, C⟩`` between two point clouds with uniform weights, cosine cost.

    ``C = 1 - X̂ Ŷᵀ`` (rows L2-normalised here) and ``T*`` is the entropic plan of :func:`sinkhorn_plan`.
    The loss is 0 when every row of X has a parallel partner in Y under a one-to-one plan and grows
    as the two distributions drift apart; it pulls one modality's embeddings towards the joint ones.

    Args:
        X: (n, d) embeddings (e.g. one modality's projection of a batch).
        Y: (m, d) embeddings (e.g. the joint embeddings of the same batch).
        reg: entropic regularisation ε.
        grad: ``"envelope"`` (default) solves for ``T*`` without a graph and returns ``⟨T*, C⟩`` with
            ``T*`` constant: its gradient ``∂/∂C = T*`` is the exact gradient of the entropic OT value
            ``min_T ⟨T, C⟩ − εH(T)`` (envelope theorem), at the memory cost of one cost matrix.
            ``"autodiff"``/``"last_step"`` also differentiate through the Sinkhorn iterations.

    Returns:
        A scalar tensor.

    Example:
        >>> X = torch.eye(3, requires_grad=True)
        >>> ot_loss(X, torch.eye(3)).item() < 1e-3
        True
    """
    if grad not in LOSS_GRAD_MODES:
        raise ValueError(f"unknown grad mode {grad!r}; choose one of {', '.join(LOSS_GRAD_MODES)}")
    C = cosine_cost(X, Y)
    if grad == "envelope":
        with torch.no_grad():
            T = sinkhorn_plan(None, None, C.detach(), reg, max_iter=max_iter, tol=tol, grad="detach")
    else:
        T = sinkhorn_plan(None, None, C, reg, max_iter=max_iter, tol=tol, grad=grad)
    return (T * C).sum()


def transport_plan(
    X1: np.ndarray, X2: np.ndarray, reg: float = 0.05, *, max_iter: int = 5000, tol: float = 1e-7
) -> np.ndarray:
    """Cross-KG entropic transport plan between two blocks of entities, for display.

    Args:
        X1: (a, d) embeddings of KG1 entities; X2: (b, d) embeddings of KG2 entities.
        reg: entropic regularisation ε on the cosine cost ``1 - X̂1 X̂2ᵀ``.

    Returns:
        float64 (a, b) plan with uniform marginals: rows sum to ``1/a``, columns to ``1/b``.
        Multiply by ``a`` to read row ``i`` as a distribution over KG2 entities.

    Example:
        >>> plan = transport_plan(np.eye(2), np.eye(2)[::-1])
        >>> plan.round(3).tolist()
        [[0.0, 0.5], [0.5, 0.0]]
    """
    X1 = np.asarray(X1, dtype=np.float64)
    X2 = np.asarray(X2, dtype=np.float64)
    if X1.ndim != 2 or X2.ndim != 2 or len(X1) == 0 or len(X2) == 0 or X1.shape[1] != X2.shape[1]:
        raise ValueError(f"need two non-empty (n, d) arrays of the same width, got {X1.shape} and {X2.shape}")
    X1 = X1 / np.maximum(np.linalg.norm(X1, axis=1, keepdims=True), 1e-12)
    X2 = X2 / np.maximum(np.linalg.norm(X2, axis=1, keepdims=True), 1e-12)
    plan = sinkhorn_plan(None, None, 1.0 - X1 @ X2.T, reg, max_iter=max_iter, tol=tol, grad="detach")
    return np.asarray(plan, dtype=np.float64)
