"""Attribute modality: bag of attribute types plus their numeric values, through a linear map.

Input row of an entity = ``[type bag | value]``: the type bag is ``log(1 + count)``, L2-normalised;
the value slot of attribute ``a`` holds the entity's value mapped to [-1, 1] by ``a``'s quantiles
(so years, populations and coordinates live on one scale), 0 when absent or not numeric.
"""

from __future__ import annotations

import torch

from mimea_core.config import MIMEAConfig
from mimea_core.model.inputs import ModelInputs, Vocab
from mimea_core.model.layers import MaskedLinearEncoder


class AttributeEncoder(MaskedLinearEncoder):
    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> AttributeEncoder:
        return cls(vocab.attribute_dim, config.dim)

    @staticmethod
    def has_data(vocab: Vocab) -> bool:
        return vocab.attribute_dim > 0

    def forward(self, inputs: ModelInputs, ids: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return super().forward(inputs.attribute_input, inputs.present["attribute"], ids)
