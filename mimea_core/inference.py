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
    return prepare_inputs(pair, model.vocab, model.modalities, model.device, model.config.graph_encoder)


def _check_overrides(model: MIMEAModel, overrides: Sequence[ModalityOverride]) -> None:
    for ov in overrides:
        if ov.modality not in model.modalities:
            raise ConfigError(f"unknown modality {ov.modality!r}; the model has {', '.join(model.modalities)}")
        if ov.kg not in (1, 2):
            raise ConfigError(f"override kg must be 1 or 2, got {ov.kg}")
        if ov.mode not in ("mask", "noise"):
            raise ConfigError(f"unknown override mode {ov.mode!r}; expected 'mask' or 'noise'")


def _global_ids(ov: ModalityOverride, n1: int) -> np.ndarray:
    return np.asarray(ov.entities, dtype=np.int64).reshape(-1) + (0 if ov.kg == 1 else n1)


def _noise_plan(model: MIMEAModel, overrides: Sequence[ModalityOverride], n1: int) -> list[tuple]:
    """Per noise override, in order: (modality, global ids, standard-normal rows, scale), drawn
    from one generator seeded 0 (the same override gives the same noise every time)."""
    gen = torch.Generator(device="cpu").manual_seed(0)
    d = model.config.dim
    plan = []
    for ov in overrides:
        if ov.mode == "noise":
            ids = _global_ids(ov, n1)
            plan.append((ov.modality, ids, torch.randn((len(ids), d), generator=gen), ov.scale))
    return plan


def _add_noise(modal: dict[str, torch.Tensor], plan: list[tuple], block: slice) -> None:
    """Noise of ``plan`` on the rows of ``block`` (global ids): ``x + s ||x|| / sqrt(d) * noise``."""
    for modality, ids, noise, scale in plan:
        sel = np.flatnonzero((ids >= block.start) & (ids < block.stop))
        if len(sel) == 0:
            continue
        x = modal[modality].clone()
        local = torch.as_tensor(ids[sel] - block.start, device=x.device)
        rows = x[local]
        size = scale * rows.norm(dim=1, keepdim=True) / rows.shape[1] ** 0.5
        x[local] = rows + size * noise[torch.as_tensor(sel)].to(x.device)
        modal[modality] = x


@torch.no_grad()
def embed(
    model: MIMEAModel,
    pair: MMKGPair,
    overrides: Sequence[ModalityOverride] = (),
    inputs: ModelInputs | None = None,
    chunk_size: int = 16384,
) -> Embeddings:
    """All entities' embeddings in inference mode (Beta means, no dropout), as numpy arrays.

    ``inputs`` may be passed to skip rebuilding them from ``pair`` (training does this).
    Streaming: the graph encoder propagates the whole graph once (message passing needs every
    node, N x d); every other encoder, the overrides and the fusion run on blocks of
    ``chunk_size`` entities written into preallocated arrays, so the working memory beyond the
    outputs themselves is O(N·d + chunk_size·M·d) instead of several (N, M, d) intermediates.
    """
    _check_overrides(model, overrides)
    was_training = model.training
    model.eval()
    try:
        inputs = inputs if inputs is not None else model_inputs(model, pair)
        n1, n = inputs.num_entities[0], inputs.total
        mods = list(model.modalities)
        d = model.config.dim
        present = model.present(inputs).clone()
        for ov in overrides:
            if ov.mode == "mask":
                ids = torch.as_tensor(_global_ids(ov, n1), device=present.device)
                present[ids, mods.index(ov.modality)] = False
        plan = _noise_plan(model, overrides, n1)
        graph = model.encoders["graph"](inputs) if "graph" in mods else None
        joint = np.empty((n, d * len(mods)), dtype=np.float32)
        per_mod = {m: np.empty((n, d), dtype=np.float32) for m in mods}
        weights = np.empty((n, len(mods)), dtype=np.float32)
        var = np.empty((n, len(mods)), dtype=np.float32)
        for start in range(0, n, max(1, chunk_size)):
            block = slice(start, min(start + chunk_size, n))
            ids = torch.arange(block.start, block.stop, device=present.device)
            modal = {m: graph[block] if m == "graph" else model.encoders[m](inputs, ids) for m in mods}
            _add_noise(modal, plan, block)
            out = model.fuse(modal, present[block], sample=False)
            joint[block] = out.joint.float().cpu().numpy()
            for k, m in enumerate(mods):
                per_mod[m][block] = out.modal[:, k].float().cpu().numpy()
            weights[block] = out.weights.float().cpu().numpy()
            var[block] = out.weight_var.float().cpu().numpy()
            del modal, out
    finally:
        model.train(was_training)

    def split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return a[:n1], a[n1:]

    pres = present.cpu().numpy()
    return Embeddings(
        modalities=mods,
        joint=split(joint),
        per_modality={m: split(per_mod[m]) for m in mods},
        weights={m: split(weights[:, k]) for k, m in enumerate(mods)},
        weight_var={m: split(var[:, k]) for k, m in enumerate(mods)},
        present={m: (pres[:n1, k], pres[n1:, k]) for k, m in enumerate(mods)},
    )
