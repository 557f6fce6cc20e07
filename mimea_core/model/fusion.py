"""Probability-guided modal fusion (and the ``uniform`` / ``attention`` ablations).

Input: per entity, ``M`` modality embeddings ``x_m`` and a presence mask. With ``u_m = x_m/||x_m||``:

1. cross-modal interaction: one multi-head self-attention layer over the modality tokens (absent
   modalities are masked as keys), ``h = LayerNorm(u + MHA(u))``;
2. ``beta``: a per-modality head gives ``alpha_m, beta_m = softplus(W_m h_m + b_m) + eps``; the
   weight ``w_m ~ Beta(alpha_m, beta_m)`` is sampled with the reparameterisation trick in training
   and is the mean ``alpha/(alpha+beta)`` at inference; its variance
   ``alpha beta / ((alpha+beta)^2 (alpha+beta+1))`` is the uncertainty shown to users.
   ``attention``: ``w = softmax_m(v^T h_m)`` over present modalities (deterministic, variance 0).
   ``uniform``: ``w_m = 1/#present`` (no attention, variance 0).
3. weights are zeroed for absent modalities and normalised to sum to 1 per entity;
4. joint embedding ``z = normalise(concat_m w_m u_m)``.
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
    modal: torch.Tensor  # (B, M, d), L2-normalised modality embeddings
    weights: torch.Tensor  # (B, M), normalised over present modalities, 0 where absent
    weight_var: torch.Tensor  # (B, M), Beta variance (0 for non-Beta fusions)
    alpha: torch.Tensor | None  # (B, M) Beta parameters (beta fusion only)
    beta: torch.Tensor | None


def normalise_weights(w: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    w = w * present
    return w / w.sum(-1, keepdim=True).clamp_min(1e-12)


class ModalFusion(nn.Module):
    """Base of the fusions (registry: :data:`mimea_core.registry.FUSIONS`).

    Subclasses set ``attends`` (cross-modal self-attention first, step 1) and implement
    :meth:`modal_weights` (step 2); normalising and the joint embedding (steps 3-4) are shared.
    """

    attends = True

    def __init__(self, num_modalities: int, dim: int, heads: int = 4) -> None:
        super().__init__()
        if self.attends:
            self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
            self.norm = nn.LayerNorm(dim)

    def modal_weights(
        self, h: torch.Tensor, keys: torch.Tensor, pres: torch.Tensor, sample: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``(w, var, alpha, beta)`` from the tokens ``h`` (B, M, d) (``u`` itself when the fusion does
        not attend); ``keys`` (B, M) bool attendable tokens, ``pres`` (B, M) float presence."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, present: torch.Tensor, sample: bool) -> FusionOutput:
        """``x``: (B, M, d) modality embeddings; ``present``: (B, M) bool."""
        u = F.normalize(x, dim=-1)
        pres = present.to(u.dtype)
        # an entity with no modality at all attends over every token (its weights are zeroed
        # below); masking all keys would give NaNs
        keys = present | ~present.any(dim=1, keepdim=True)
        h = u
        if self.attends:
            a, _ = self.attn(u, u, u, key_padding_mask=~keys, need_weights=False)
            h = self.norm(u + a)
        w, var, alpha, beta = self.modal_weights(h, keys, pres, sample)
        w = w * pres
        joint = F.normalize((w.unsqueeze(-1) * u).flatten(1), dim=-1)
        return FusionOutput(joint=joint, modal=u, weights=w, weight_var=var * pres, alpha=alpha, beta=beta)


class UniformFusion(ModalFusion):
    """``w_m = 1/#present`` (no attention, variance 0)."""

    attends = False

    def modal_weights(self, h, keys, pres, sample):  # type: ignore[override]
        return normalise_weights(torch.ones_like(pres), pres), torch.zeros_like(pres), None, None


class AttentionFusion(ModalFusion):
    """``w = softmax_m(v^T h_m)`` over present modalities (deterministic, variance 0)."""

    def __init__(self, num_modalities: int, dim: int, heads: int = 4) -> None:
        super().__init__(num_modalities, dim, heads)
        self.score = nn.Linear(dim, 1)

    def modal_weights(self, h, keys, pres, sample):  # type: ignore[override]
        s = self.score(h).squeeze(-1).masked_fill(~keys, float("-inf"))
        return torch.softmax(s, dim=-1), torch.zeros_like(pres), None, None


class BetaFusion(ModalFusion):
    """Per-modality Beta(alpha, beta) weights: sampled (reparameterised) in training, the mean at inference."""

    def __init__(self, num_modalities: int, dim: int, heads: int = 4) -> None:
        super().__init__(num_modalities, dim, heads)
        self.head_w = nn.Parameter(torch.zeros(num_modalities, dim, 2))
        self.head_b = nn.Parameter(torch.zeros(num_modalities, 2))

    def modal_weights(self, h, keys, pres, sample):  # type: ignore[override]
        params = torch.einsum("bmd,mdk->bmk", h, self.head_w) + self.head_b
        params = F.softplus(params + 1.0) + EPS  # ~Beta(1.3, 1.3) at initialisation
        alpha, beta = params[..., 0], params[..., 1]
        if sample:
            raw = torch.distributions.Beta(alpha, beta).rsample().clamp(1e-4, 1 - 1e-4)
        else:
            raw = alpha / (alpha + beta)
        s = alpha + beta
        var = alpha * beta / (s * s * (s + 1))
        return normalise_weights(raw, pres), var, alpha, beta


def build_fusion(kind: str, num_modalities: int, dim: int, heads: int = 4) -> ModalFusion:
    """The fusion registered as ``kind`` in :data:`mimea_core.registry.FUSIONS`."""
    from mimea_core.registry import FUSIONS

    return FUSIONS[kind].load()(num_modalities, dim, heads)
