"""Inference outputs of a trained model, as plain numpy arrays.

This is the hand-over point between the model and everything downstream (evaluation, candidates,
transport plans, the app): they all take an :class:`Embeddings` and never touch torch modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PairOfArrays = tuple[np.ndarray, np.ndarray]


@dataclass
class Embeddings:
    """Entity embeddings of both KGs.

    Attributes:
        modalities: modality names in model order, e.g. ``["graph", "relation", "attribute"]``.
        joint: ``(E1, E2)``, float32 ``(n1, d)`` and ``(n2, d)``, rows L2-normalised.
        per_modality: modality -> ``(X1, X2)``, each modality's projected embeddings, L2-normalised.
        weights: modality -> ``(w1, w2)``, fusion weights (Beta means at inference), normalised so
            that they sum to 1 over the modalities present for an entity; 0 where absent.
        weight_var: modality -> ``(v1, v2)``, the Beta variance of each weight (uncertainty).
        present: modality -> ``(p1, p2)`` bool masks, whether the entity has that modality.
    """

    modalities: list[str]
    joint: PairOfArrays
    per_modality: dict[str, PairOfArrays] = field(default_factory=dict)
    weights: dict[str, PairOfArrays] = field(default_factory=dict)
    weight_var: dict[str, PairOfArrays] = field(default_factory=dict)
    present: dict[str, PairOfArrays] = field(default_factory=dict)

    @property
    def num_entities(self) -> tuple[int, int]:
        return int(self.joint[0].shape[0]), int(self.joint[1].shape[0])

    @property
    def dim(self) -> int:
        return int(self.joint[0].shape[1])

    @classmethod
    def from_joint(cls, e1: np.ndarray, e2: np.ndarray) -> Embeddings:
        """Embeddings with only a joint space (tests, external embeddings); rows are L2-normalised."""

        def _norm(x: np.ndarray) -> np.ndarray:
            x = np.asarray(x, dtype=np.float32)
            return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

        return cls(modalities=[], joint=(_norm(e1), _norm(e2)))
