"""Inference: a trained model and a pair -> :class:`~mimea_core.embeddings.Embeddings` (numpy).

``ModalityOverride`` lets the app ask "what if this modality were missing (or noisy) for these
entities?": ``mask`` marks the modality absent (the fusion re-normalises the other weights), ``noise``
adds Gaussian noise of relative size ``scale`` to the modality embedding before fusion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mimea_core.data.types import MMKGPair
from mimea_core.embeddings import Embeddings
from mimea_core.errors import ConfigError
from mimea_core.model import MIMEAModel, ModelInputs, prepare_inputs


@dataclass(frozen=True)
class ModalityOverride:
    kg: int  # 1 or 2
    entities: np.ndarray | Sequence[int]  # local ids in that KG
    modality: str
    mode: str = "mask"  # "mask" | "noise"
    scale: float = 1.0


def model_inputs(model: MIMEAModel, pair: MMKGPair) -> ModelInputs:
    """The inputs of ``pair`` for ``model`` (checks that the pair is the one it was trained on)."""
    expected = model.vocab.num_entities
    got = (pair.kg1.num_entities, pair.kg2.num_entities)
    if expected != got:
        raise ConfigError(
            f"the model was trained on a pair with {expected[0]} + {expected[1]} entities, "
            f"but {pair.source or pair.name} has {got[0]} + {got[1]}"
        )
    return prepare_inputs(pair, model.vocab, model.modalities, model.device)


def _apply_overrides(model, modal, present, overrides, n1):
    gen = torch.Generator(device="cpu").manual_seed(0)
    for ov in overrides:
        if ov.modality not in model.modalities:
            raise ConfigError(f"unknown modality {ov.modality!r}; the model has {', '.join(model.modalities)}")
        if ov.kg not in (1, 2):
            raise ConfigError(f"override kg must be 1 or 2, got {ov.kg}")
        ids = torch.as_tensor(np.asarray(ov.entities, dtype=np.int64), device=present.device)
        ids = ids + (0 if ov.kg == 1 else n1)
        k = model.modalities.index(ov.modality)
        if ov.mode == "mask":
            present[ids, k] = False
        elif ov.mode == "noise":
            x = modal[ov.modality]
            rows = x[ids]
            noise = torch.randn(rows.shape, generator=gen).to(rows.device)
            scale = ov.scale * rows.norm(dim=1, keepdim=True) / rows.shape[1] ** 0.5
            x = x.clone()
            x[ids] = rows + scale * noise
            modal[ov.modality] = x
        else:
            raise ConfigError(f"unknown override mode {ov.mode!r}; expected 'mask' or 'noise'")


@torch.no_grad()
def embed(
    model: MIMEAModel,
    pair: MMKGPair,
    overrides: Sequence[ModalityOverride] = (),
    inputs: ModelInputs | None = None,
) -> Embeddings:
    """All entities' embeddings in inference mode (Beta means, no dropout), as numpy arrays.

    ``inputs`` may be passed to skip rebuilding them from ``pair`` (training does this).
    """
    was_training = model.training
    model.eval()
    try:
        inputs = inputs if inputs is not None else model_inputs(model, pair)
        n1 = inputs.num_entities[0]
        modal = model.encode(inputs)
        present = model.present(inputs).clone()
        _apply_overrides(model, modal, present, overrides, n1)
        out = model.fuse(modal, present, sample=False)
    finally:
        model.train(was_training)

    def split(t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        a = t.detach().float().cpu().numpy()
        return a[:n1], a[n1:]

    mods = list(model.modalities)
    pres = present.cpu().numpy()
    return Embeddings(
        modalities=mods,
        joint=split(out.joint),
        per_modality={m: split(out.modal[:, k]) for k, m in enumerate(mods)},
        weights={m: split(out.weights[:, k]) for k, m in enumerate(mods)},
        weight_var={m: split(out.weight_var[:, k]) for k, m in enumerate(mods)},
        present={m: (pres[:n1, k], pres[n1:, k]) for k, m in enumerate(mods)},
    )
