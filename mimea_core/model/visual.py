"""Given-feature modalities (visual; also used for names): L2-normalised vector -> linear.

Entities without a feature vector (``present`` False) get the learned missing token and weight 0 in
the fusion: absent images are never filled with noise.
"""

from __future__ import annotations

import torch

from mimea_core.config import MIMEAConfig
from mimea_core.model.inputs import ModelInputs, Vocab
from mimea_core.model.layers import MaskedLinearEncoder


class FeatureEncoder(MaskedLinearEncoder):
    def __init__(self, modality: str, in_dim: int, out_dim: int) -> None:
        super().__init__(in_dim, out_dim)
        self.modality = modality

    def forward(self, inputs: ModelInputs, ids: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return super().forward(inputs.features[self.modality], inputs.present[self.modality], ids)


class VisualEncoder(FeatureEncoder):
    """The visual modality: given image feature vectors (``pair.kgX.features["visual"]``)."""

    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> VisualEncoder:
        return cls("visual", vocab.feature_dims["visual"], config.dim)

    @staticmethod
    def has_data(vocab: Vocab) -> bool:
        return "visual" in vocab.feature_dims
