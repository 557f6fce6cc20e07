"""Small building blocks shared by the modality encoders."""

from __future__ import annotations

import math

import torch
from torch import nn

from mimea_core.model.encoder import ModalityEncoder
from mimea_core.model.inputs import SparseRows


class MaskedLinearEncoder(ModalityEncoder):
    """``x -> x W + b`` for entities that have the modality; a learned *missing token* otherwise.

    ``x`` is a :class:`SparseRows` (bags) or a dense (given features) ``(N, in_dim)`` tensor. The missing
    token only keeps shapes uniform: the fusion gives absent modalities weight 0, so it never
    carries information about the entity.
    """

    def __init__(self, in_dim: int, out_dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(in_dim, out_dim) / math.sqrt(max(in_dim, 1)))
        self.bias = nn.Parameter(torch.zeros(out_dim))
        self.missing = nn.Parameter(torch.randn(out_dim) / math.sqrt(out_dim))

    def forward(
        self, x: torch.Tensor | SparseRows, present: torch.Tensor, ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Rows ``ids`` (all when None) of the encoded input."""
        if isinstance(x, SparseRows):
            out = x.matmul(self.weight, ids)
        else:
            out = (x if ids is None else x.index_select(0, ids)) @ self.weight
        if ids is not None:
            present = present.index_select(0, ids)
        out = out + self.bias
        return torch.where(present.unsqueeze(-1), out, self.missing.expand_as(out))
