"""Probability-guided modal fusion (and the ``uniform`` / ``attention`` ablations).

Input: per entity, ``M`` modality embeddings ``x_m`` and a presence mask. With ``u_m = x_m/||x_m||``:

1. cross-modal interaction (switch ``cross_modal``): one multi-head self-attention layer over the
   modality tokens (absent modalities are masked as keys), ``a = MHA(u)``. It reaches the joint
   embedding through a gated residual mix ``v_m = normalise(u_m + g_m a_m)`` with a learned gate
   ``g_m = sigmoid(gamma_m)`` per modality (``gamma_m = 0`` at initialisation, so ``g_m = 1/2``);
   the Beta/attention heads read ``h = LayerNorm(u + a)``. Without interaction ``v = h = u``.
2. ``beta``: a per-modality head gives ``alpha_m, beta_m = softplus(W_m h_m + b_m) + eps``; the raw
   weight ``r_m ~ Beta(alpha_m, beta_m)`` is sampled with the reparameterisation trick in training
   and is the mean ``mu_m = alpha/(alpha+beta)`` at inference.
   ``attention``: ``w = softmax_m(s^T h_m)`` over present modalities (deterministic, variance 0).
   ``uniform``: ``w_m = 1/#present`` (variance 0).
3. weights are zeroed for absent modalities and renormalised, ``w_m = r_m / sum_k r_k`` (present k);
   the uncertainty shown to users is the variance of *this* renormalised weight, by the delta method
   over independent Betas (``sigma_k^2`` their variances, ``S = sum_k mu_k``)::

       Var(w_m) ~= [(S - mu_m)^2 sigma_m^2 + mu_m^2 sum_{k != m} sigma_k^2] / S^4

   (0 when only one modality is present: its weight is always 1);
4. joint embedding ``z = normalise(concat_m w_m v_m)``.

``FusionOutput.modal`` stays the uni-modal ``u`` (per-modality contrastive terms and the app's
per-modality views); ``mixed`` is ``v``, what was fused.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-3


@dataclass
class FusionOutput:
    joint: torch.Tensor  # (B, M*d), L2-normalised rows
    modal: torch.Tensor  # (B, M, d), L2-normalised uni-modal embeddings (before interaction)
    weights: torch.Tensor  # (B, M), normalised over present modalities, 0 where absent
    weight_var: torch.Tensor  # (B, M), variance of the renormalised weight (0 for non-Beta fusions)
    alpha: torch.Tensor | None  # (B, M) Beta parameters (beta fusion only)
    beta: torch.Tensor | None
    mixed: torch.Tensor | None = None  # (B, M, d), the fused tokens v (= modal without interaction)


def normalise_weights(w: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    w = w * present
    return w / w.sum(-1, keepdim=True).clamp_min(1e-12)


def renormalised_weight_var(mean: torch.Tensor, var: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Delta-method variance of ``w_m = r_m / sum_k r_k`` for independent ``r_k`` (mean, var) (B, M).

    Only present modalities take part; absent ones get 0 (see the module docstring for the formula).
    """
    pres = present.to(mean.dtype)
    mu, s2 = mean * pres, var * pres
    total = mu.sum(-1, keepdim=True)
    total = torch.where(total > 0, total, torch.ones_like(total))  # no modality at all: 0, not 0/0
    rest = (s2.sum(-1, keepdim=True) - s2).clamp_min(0)  # the others' variances (no rounding below 0)
    out = ((total - mu) ** 2 * s2 + mu**2 * rest) / total**4
    return out * pres


class ModalFusion(nn.Module):
    """Base of the fusions (registry: :data:`mimea_core.registry.FUSIONS`).

    ``cross_modal`` builds the interaction of step 1 (for every fusion, so that the weight
    ablations change the weights only); subclasses implement :meth:`modal_weights` (step 2);
    normalising and the joint embedding (steps 3-4) are shared.
    """

    def __init__(self, num_modalities: int, dim: int, heads: int = 4, cross_modal: bool = True) -> None:
        super().__init__()
        self.cross_modal = cross_modal
        if cross_modal:
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.norm = nn.LayerNorm(dim)
            self.gate = nn.Parameter(torch.zeros(num_modalities))

    def modal_weights(
        self, h: torch.Tensor, keys: torch.Tensor, pres: torch.Tensor, sample: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``(w, var, alpha, beta)`` from the tokens ``h`` (B, M, d) (``u`` itself without
        interaction); ``keys`` (B, M) bool attendable tokens, ``pres`` (B, M) float presence."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, present: torch.Tensor, sample: bool) -> FusionOutput:
        """``x``: (B, M, d) modality embeddings; ``present``: (B, M) bool."""
        u = F.normalize(x, dim=-1)
        pres = present.to(u.dtype)
        # an entity with no modality at all attends over every token (its weights are zeroed
        # below); masking all keys would give NaNs
        keys = present | ~present.any(dim=1, keepdim=True)
        h = v = u
        if self.cross_modal:
            a, _ = self.attn(u, u, u, key_padding_mask=~keys, need_weights=False)
            h = self.norm(u + a)
            v = F.normalize(u + torch.sigmoid(self.gate)[None, :, None] * a, dim=-1)
        w, var, alpha, beta = self.modal_weights(h, keys, pres, sample)
        w = w * pres
        joint = F.normalize((w.unsqueeze(-1) * v).flatten(1), dim=-1)
        return FusionOutput(
            joint=joint, modal=u, weights=w, weight_var=var * pres, alpha=alpha, beta=beta, mixed=v
        )


class UniformFusion(ModalFusion):
    """``w_m = 1/#present`` (variance 0)."""

    def modal_weights(self, h, keys, pres, sample):  # type: ignore[override]
        return normalise_weights(torch.ones_like(pres), pres), torch.zeros_like(pres), None, None


class AttentionFusion(ModalFusion):
    """``w = softmax_m(s^T h_m)`` over present modalities (deterministic, variance 0)."""

    def __init__(self, num_modalities: int, dim: int, heads: int = 4, cross_modal: bool = True) -> None:
        super().__init__(num_modalities, dim, heads, cross_modal)
        self.score = nn.Linear(dim, 1)

    def modal_weights(self, h, keys, pres, sample):  # type: ignore[override]
        s = self.score(h).squeeze(-1).masked_fill(~keys, float("-inf"))
        return torch.softmax(s, dim=-1), torch.zeros_like(pres), None, None


class BetaFusion(ModalFusion):
    """Per-modality Beta(alpha, beta) weights: sampled (reparameterised) in training, the mean at
    inference; ``var`` is the delta-method variance of the renormalised weight."""

    def __init__(self, num_modalities: int, dim: int, heads: int = 4, cross_modal: bool = True) -> None:
        super().__init__(num_modalities, dim, heads, cross_modal)
        self.head_w = nn.Parameter(torch.zeros(num_modalities, dim, 2))
        self.head_b = nn.Parameter(torch.zeros(num_modalities, 2))

    def modal_weights(self, h, keys, pres, sample):  # type: ignore[override]
        params = torch.einsum("bmd,mdk->bmk", h, self.head_w) + self.head_b
        params = F.softplus(params + 1.0) + EPS  # ~Beta(1.3, 1.3) at initialisation
        alpha, beta = params[..., 0], params[..., 1]
        mean = alpha / (alpha + beta)
        raw = torch.distributions.Beta(alpha, beta).rsample().clamp(1e-4, 1 - 1e-4) if sample else mean
        s = alpha + beta
        var = renormalised_weight_var(mean, alpha * beta / (s * s * (s + 1)), pres > 0)
        return normalise_weights(raw, pres), var, alpha, beta


def build_fusion(
    kind: str, num_modalities: int, dim: int, heads: int = 4, cross_modal: bool = True
) -> ModalFusion:
    """The fusion registered as ``kind`` in :data:`mimea_core.registry.FUSIONS`."""
    from mimea_core.registry import FUSIONS

    return FUSIONS[kind].load()(num_modalities, dim, heads, cross_modal=cross_modal)
