"""The interface every modality encoder implements (see :data:`mimea_core.registry.MODALITY_ENCODERS`).

An encoder maps the model inputs to one ``(len(ids), dim)`` tensor per entity (``ids`` global ids,
all entities when None). The model builds it with :meth:`from_config`, leaves the modality out
when :meth:`has_data` is False for the pair's vocabulary, and asks :meth:`input_features` for input
features that are computed outside the pair (e.g. name embeddings) when the modality is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    import numpy as np

    from mimea_core.config import MIMEAConfig
    from mimea_core.data.types import MMKGPair
    from mimea_core.model.inputs import ModelInputs, Vocab


class ModalityEncoder(nn.Module):
    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> ModalityEncoder:
        raise NotImplementedError

    @staticmethod
    def has_data(vocab: Vocab) -> bool:
        """Whether the pair has anything for this modality (False: the modality is left out)."""
        return True

    @classmethod
    def input_features(
        cls, pair: MMKGPair, vocab: Vocab | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(X1, present1, X2, present2) given to :func:`~mimea_core.model.inputs.build_inputs`, or None.

        ``vocab`` is the run's vocabulary (e.g. the seeds the structure modality propagates from).
        """
        return None

    def forward(self, inputs: ModelInputs, ids: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError
