"""Loss terms of MIMEA. Total: ``L = InfoNCE(joint) + lambda sum_m InfoNCE_m^c + gamma A + eta KL``.

- :func:`info_nce`: bidirectional InfoNCE over a batch of aligned pairs with in-batch negatives,
  ``-1/2B sum_i [log softmax_j(z1_i.z2_j/tau)_i + log softmax_j(z2_i.z1_j/tau)_i]``;
  :func:`info_nce_per_pair` gives the per-pair terms ``l_i`` (their mean is :func:`info_nce`).
- :func:`adaptive_pair_weights`: per pair ``i`` and modality ``m``,
  ``c_im = M sqrt(w_m(e1_i) w_m(e2_i))`` from the (detached) fusion weights; the per-modality
  term is ``InfoNCE_m^c = mean_i c_im l_im`` over pairs that have modality ``m`` on both sides, so
  a pair whose fusion trusts ``m`` weighs more in ``m``'s contrastive term (uniform: ``c = 1``).
  With ``modal_weighting = "batch"`` (the default, see ``docs/experiments-modules.md``) every pair
  gets the batch mean ``c_m = mean_i c_im`` (:func:`adaptive_modal_weights`) instead.
- modal alignment ``A`` (:func:`modal_alignment`), for every modality ``m`` between its entity
  embeddings ``u_m`` (only entities that have ``m``) and a target set ``y``:
  ``target = "joint"``: ``y = c = normalise(S z)``, the joint embedding ``z`` mapped into the
  modality space by the fixed block-sum map ``S = [I_d ... I_d]`` (no parameters, so nothing can
  absorb the loss: ``S z`` is proportional to ``sum_k w_k v_k``, and the gradient reaches the
  encoders, the interaction and the fusion weights);
  ``target = "cross_kg"``: ``y`` = the same modality of the other KG's side of the seed pairs.
  *OT* (:func:`ot_alignment_loss`): ``<T*, C>`` with ``C_ij = 1 - cos(x_i, y_j)`` and ``T*`` the
  entropic OT plan (uniform marginals) of ``C``, a constant in the backward pass (the envelope
  theorem makes ``dOT/dC = T*``). *Naive mean alignment* (:func:`mean_alignment_loss`, the
  ``--no-ot`` ablation): ``||mean_i x_i - mean_j y_j||^2``, matching first moments only.
- :func:`beta_kl`: ``KL(Beta(alpha, beta) || Beta(a0, b0))`` averaged over present entity-modalities.
- :func:`distillation`: ``KL(p_joint || p_m)`` of the in-batch similarity distributions (optional).
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from mimea_core.alignment import ot_loss


def info_nce_per_pair(z1: torch.Tensor, z2: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """(B,) bidirectional InfoNCE terms; row ``i`` of ``z1`` matches row ``i`` of ``z2``."""
    logits = z1 @ z2.T / tau
    target = torch.arange(z1.shape[0], device=z1.device)
    return 0.5 * (
        F.cross_entropy(logits, target, reduction="none")
        + F.cross_entropy(logits.T, target, reduction="none")
    )


def info_nce(z1: torch.Tensor, z2: torch.Tensor, tau: float | torch.Tensor) -> torch.Tensor:
    """Bidirectional InfoNCE; row ``i`` of ``z1`` matches row ``i`` of ``z2`` (rows L2-normalised)."""
    return info_nce_per_pair(z1, z2, tau).mean()


def adaptive_pair_weights(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """(B, M) detached weights ``c_im = M sqrt(w1_im w2_im)`` of each pair's per-modality terms."""
    m = w1.shape[1]
    return (m * torch.sqrt((w1 * w2).clamp_min(0))).detach()


def adaptive_modal_weights(w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    """(M,) batch means of :func:`adaptive_pair_weights` (what one modality weighs on average)."""
    return adaptive_pair_weights(w1, w2).mean(0)


def mean_alignment_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Naive mean alignment ``||mean_i x_i - mean_j y_j||^2`` (the ``--no-ot`` ablation)."""
    return (x.mean(0) - y.mean(0)).pow(2).sum()


def modal_alignment(
    modal: torch.Tensor,
    mixed: torch.Tensor,
    weights: torch.Tensor,
    present: torch.Tensor,
    *,
    target: str,
    use_ot: bool,
    reg: float,
    pairs: int | None = None,
) -> torch.Tensor | None:
    """Alignment term ``A``: mean over modalities of OT (or naive mean) alignment, see the module doc.

    Args:
        modal: (N, M, d) uni-modal embeddings ``u``; mixed: (N, M, d) fused tokens ``v``;
        weights: (N, M) fusion weights; present: (N, M) bool.
        target: ``"joint"`` or ``"cross_kg"``; for ``"cross_kg"`` the first ``pairs`` rows are
            KG1 sides of seed pairs and the next ``pairs`` rows their KG2 sides.
    Returns:
        A scalar, or None when no modality has two present rows.
    """
    if target == "joint":
        consensus = F.normalize((weights.unsqueeze(-1) * mixed).sum(1), dim=-1)  # normalise(S z)
    terms = []
    for k in range(modal.shape[1]):
        if target == "joint":
            rows = present[:, k]
            x, y = modal[rows, k], consensus
        else:
            both = present[:pairs, k] & present[pairs : 2 * pairs, k]
            x, y = modal[:pairs, k][both], modal[pairs : 2 * pairs, k][both]
        if x.shape[0] < 2:
            continue
        terms.append(ot_alignment_loss(x, y, reg) if use_ot else mean_alignment_loss(x, y))
    return torch.stack(terms).mean() if terms else None


def ot_alignment_loss(projected: torch.Tensor, joint: torch.Tensor, reg: float) -> torch.Tensor:
    """``<T, C>`` between one modality's embeddings (n, D) and a target set (m, D), e.g. the joint.

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
