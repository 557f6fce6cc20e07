"""Relation modality: the bag of an entity's relations, by direction (out/in), through a linear map.

Inputs are built in :func:`mimea_core.model.inputs.build_inputs` (``log(1 + count)``, L2-normalised
rows over the kept relations of both KGs). On FB15K-DB15K this is the largest add-on to the graph
modality.
"""

from __future__ import annotations

import torch

from mimea_core.config import MIMEAConfig
from mimea_core.model.inputs import ModelInputs, Vocab
from mimea_core.model.layers import MaskedLinearEncoder


class RelationEncoder(MaskedLinearEncoder):
    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> RelationEncoder:
        return cls(vocab.relation_dim, config.dim)

    @staticmethod
    def has_data(vocab: Vocab) -> bool:
        return vocab.relation_dim > 0

    def forward(self, inputs: ModelInputs, ids: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return super().forward(inputs.relation_bag, inputs.present["relation"], ids)
