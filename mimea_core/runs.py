"""Loading a finished run directory (see :mod:`mimea_core.training.checkpoint` for its layout)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimea_core.config import MIMEAConfig, resolve_device
from mimea_core.data.types import Split
from mimea_core.errors import MimeaError, RunError
from mimea_core.model import MIMEAModel, Vocab
from mimea_core.training import checkpoint as ck

log = logging.getLogger(__name__)

@dataclass
class LoadedRun:
    model: MIMEAModel
    config: MIMEAConfig
    split: Split
    metrics: dict[str, Any]
    run_dir: Path
    dataset: str  # the PATH the run was trained on
    meta: dict[str, Any] = field(default_factory=dict)
    extra_seeds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    pseudo_seeds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    history: list[dict[str, Any]] = field(default_factory=list)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise RunError(f"{path}: missing; the run directory is incomplete") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunError(f"{path}: not valid JSON ({err})") from err


def load_run(run_dir: str | Path, device: str = "auto") -> LoadedRun:
    """Load a run written by :func:`mimea_core.training.train` (weights with ``weights_only=True``).

    Raises :class:`RunError` for a missing directory, a half-written run (no ``run.json`` completion
    marker), unreadable files, or weights that are not a plain tensor state dict (e.g. a pickle
    that would run code).
    """
    run = Path(run_dir)
    if not run.is_dir() and ck.recover_interrupted_save(run):
        log.warning("%s: restored the previous run that an interrupted save had moved aside", run)
    if not run.is_dir():
        raise RunError(f"{run}: no such run directory")
    marker = run / ck.MARKER
    if not marker.exists():
        raise RunError(
            f"{run}: not a finished run (no {ck.MARKER} completion marker); "
            "it may be half-written or from an interrupted training"
        )
    meta = _read_json(marker)
    if not isinstance(meta, dict) or meta.get("format_version") != ck.FORMAT_VERSION:
        raise RunError(f"{marker}: unsupported run format (expected format_version {ck.FORMAT_VERSION})")
    try:
        config = MIMEAConfig.from_dict(_read_json(run / ck.CONFIG))
    except MimeaError as err:
        raise RunError(f"{run / ck.CONFIG}: {err}") from err
    except TypeError as err:
        raise RunError(f"{run / ck.CONFIG}: bad configuration ({err})") from err
    try:
        vocab = Vocab.load(run / ck.VOCAB)
        split, extra, pseudo = ck.load_split(run / ck.SPLIT)
    except (OSError, KeyError, ValueError) as err:
        raise RunError(f"{run}: cannot read {ck.VOCAB} / {ck.SPLIT} ({err})") from err
    dev = resolve_device(device)
    try:
        state = torch.load(run / ck.WEIGHTS, map_location=dev, weights_only=True)
    except Exception as err:  # UnpicklingError for unsafe pickles, OSError, RuntimeError, ...
        raise RunError(f"{run / ck.WEIGHTS}: refused or unreadable weights ({type(err).__name__}: {err})") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise RunError(f"{run / ck.WEIGHTS}: not a state dict of tensors")
    modalities = meta.get("modalities") or list(config.modalities)
    model = MIMEAModel(config, vocab, list(modalities)).to(dev)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise RunError(f"{run / ck.WEIGHTS}: does not match the configuration ({err})") from err
    model.eval()
    metrics = _read_json(run / ck.METRICS)
    history = []
    hist_path = run / ck.HISTORY
    if hist_path.exists():
        history = [json.loads(line) for line in hist_path.read_text().splitlines() if line.strip()]
    return LoadedRun(
        model=model, config=config, split=split, metrics=metrics, run_dir=run,
        dataset=str(meta.get("dataset", "")), meta=meta, extra_seeds=extra, pseudo_seeds=pseudo,
        history=history,
    )  # fmt: skip
