"""Loss terms of MIMEA. Total: ``L = InfoNCE(joint) + lambda sum_m c_m InfoNCE_m + gamma OT + eta KL``.

- :func:`info_nce`: bidirectional InfoNCE over a batch of aligned pairs with in-batch negatives,
  ``-1/2B sum_i [log softmax_j(z1_i.z2_j/tau)_i + log softmax_j(z2_i.z1_j/tau)_i]``.
- :func:`adaptive_modal_weights`: ``c_m = M * mean_i sqrt(w_m(e1_i) w_m(e2_i))`` from the (detached)
  fusion weights, so a modality the fusion trusts for a pair weighs more in its own contrastive term
  (uniform weights give ``c_m = 1``).
- :func:`ot_alignment_loss`: ``<T, C>`` with ``C_ij = 1 - cos(P_m x_i, z_j)`` between a modality's
  projected embeddings and the joint embeddings, ``T`` the entropic OT plan (uniform marginals) of
  ``C``; ``T`` is treated as a constant (the envelope theorem makes ``dOT/dC = T``).
- :func:`beta_kl`: ``KL(Beta(alpha, beta) || Beta(a0, b0))`` averaged over present entity-modalities.
- :func:`distillation`: ``KL(p_joint || p_m)`` of the in-batch similarity distributions (optional).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from mimea_core.alignment import ot_loss


def info_nce(z1: torch.Tensor, z2: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """Bidirectional InfoNCE; row ``i`` of ``z1`` matches row ``i`` of ``z2`` (rows L2-normalised)."""
    logits = z1 @ z2.T / tau
    target = torch.arange(z1.shape[0], device=z1.device)
    return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def adaptive_modal_weights(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """(M,) weights of the per-modality InfoNCE terms from fusion weights ``w1, w2`` (B, M)."""
    m = w1.shape[1]
    return (m * torch.sqrt((w1 * w2).clamp_min(0)).mean(0)).detach()


def ot_alignment_loss(projected: torch.Tensor, joint: torch.Tensor, reg: float) -> torch.Tensor:
    """``<T, C>`` between one modality's projected embeddings (B, D) and the joint ones (B, D).

    Delegates to :func:`mimea_core.alignment.ot_loss` (POT log-domain Sinkhorn, envelope gradient).
    """
    with warnings.catch_warnings():  # a not fully converged plan is fine for a loss term
        warnings.filterwarnings("ignore", message="Sinkhorn did not converge")
        return ot_loss(projected, joint, reg=reg, max_iter=100, tol=1e-5)


def beta_kl(alpha: torch.Tensor, beta: torch.Tensor, present: torch.Tensor, prior: tuple[float, float]):
    """Mean ``KL(Beta(alpha, beta) || Beta(prior))`` over present entries of (B, M)."""
    q = torch.distributions.Beta(alpha, beta)
    p = torch.distributions.Beta(torch.full_like(alpha, prior[0]), torch.full_like(beta, prior[1]))
    kl = torch.distributions.kl_divergence(q, p)
    mask = present.to(kl.dtype)
    return (kl * mask).sum() / mask.sum().clamp_min(1.0)


def distillation(joint1, joint2, modal1, modal2, tau) -> torch.Tensor:
    """``KL(softmax(z1 z2^T / tau) || softmax(x1 x2^T / tau))``, joint distribution detached."""
    p = torch.softmax((joint1 @ joint2.T / tau).detach(), dim=1)
    log_q = torch.log_softmax(modal1 @ modal2.T / tau, dim=1)
    return F.kl_div(log_q, p, reduction="batchmean")
