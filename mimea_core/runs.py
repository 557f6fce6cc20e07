"""The run folder: its one type (:class:`RunResult`), its file names, saving, loading, discovery.

This module is the only one that knows the layout of ``runs/NAME/``::

    weights.pt      model state dict (tensors only; loaded with ``torch.load(weights_only=True)``)
    config.json     MIMEAConfig.to_dict()
    vocab.npz       relations/attributes kept and value quantiles (no pickles)
    split.npz       train/valid/test rows, extra (curator) seeds, pseudo-seeds, seed ratio, split seed
    metrics.json    test metrics (:meth:`AlignmentMetrics.to_dict`, DESIGN.md section 3 shape)
    history.jsonl   one JSON object per epoch (losses, validation MRR, seconds)
    run.json        run description (dataset, modalities, entity counts); written last: the
                    completion marker

Everything is written into a temporary sibling folder which then replaces ``NAME`` with
``os.replace``, so a reader never sees a half-written run under the final name.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mimea_core.config import MIMEAConfig, resolve_device
from mimea_core.data.types import Split
from mimea_core.errors import MimeaError, RunError
from mimea_core.metrics import AlignmentMetrics

if TYPE_CHECKING:  # torch and the model load only when a run is saved or loaded
    from mimea_core.embeddings import Embeddings
    from mimea_core.model import MIMEAModel, Vocab

log = logging.getLogger(__name__)

WEIGHTS = "weights.pt"
CONFIG = "config.json"
VOCAB = "vocab.npz"
SPLIT = "split.npz"
METRICS = "metrics.json"
HISTORY = "history.jsonl"
MARKER = "run.json"
FORMAT_VERSION = 1


def _no_pairs() -> np.ndarray:
    return np.zeros((0, 2), dtype=np.int64)


@dataclass
class RunResult:
    """A trained run: what :func:`mimea_core.train` returns and :func:`load_run` reads back."""

    model: MIMEAModel
    config: MIMEAConfig
    split: Split
    metrics: AlignmentMetrics
    history: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    dataset: str = ""  # the PATH the run was trained on
    meta: dict[str, Any] = field(default_factory=dict)  # the run.json description
    extra_seeds: np.ndarray = field(default_factory=_no_pairs)
    pseudo_seeds: np.ndarray = field(default_factory=_no_pairs)
    embeddings: Embeddings | None = None  # set by training (test-time embeddings), not by loading

    @property
    def vocab(self) -> Vocab:
        return self.model.vocab

    @property
    def seed_pairs(self) -> np.ndarray:
        """(k, 2) every pair the model was given as known: train + valid + extra (curator) seeds."""
        parts = [np.asarray(self.split.train).reshape(-1, 2), np.asarray(self.split.valid).reshape(-1, 2)]
        parts.append(np.asarray(self.extra_seeds).reshape(-1, 2))
        return np.concatenate(parts).astype(np.int64)


# -- saving ---------------------------------------------------------------------------------------
def save_split(path: Path, split: Split, extra_seeds: np.ndarray, pseudo_seeds: np.ndarray) -> None:
    np.savez(
        path,
        train=split.train,
        valid=split.valid,
        test=split.test,
        extra_seeds=np.asarray(extra_seeds, dtype=np.int64).reshape(-1, 2),
        pseudo_seeds=np.asarray(pseudo_seeds, dtype=np.int64).reshape(-1, 2),
        seed_ratio=np.float64(split.seed_ratio),
        seed=np.int64(split.seed),
    )


def load_split(path: Path) -> tuple[Split, np.ndarray, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        split = Split(
            train=z["train"], valid=z["valid"], test=z["test"],
            seed_ratio=float(z["seed_ratio"]), seed=int(z["seed"]),
        )  # fmt: skip
        return split, z["extra_seeds"], z["pseudo_seeds"]


def save_run(run: RunResult, out_dir: str | Path) -> Path:
    """Write ``run`` to ``out_dir`` atomically (replacing a previous run there); returns the path."""
    import torch

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise RunError(f"{out}: exists and is not a directory; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        torch.save({k: v.detach().cpu() for k, v in run.model.state_dict().items()}, tmp / WEIGHTS)
        (tmp / CONFIG).write_text(json.dumps(run.config.to_dict(), indent=2) + "\n")
        run.vocab.save(tmp / VOCAB)
        save_split(tmp / SPLIT, run.split, run.extra_seeds, run.pseudo_seeds)
        (tmp / METRICS).write_text(json.dumps(run.metrics.to_dict(), indent=2) + "\n")
        with open(tmp / HISTORY, "w") as fh:
            for row in run.history:
                fh.write(json.dumps(row) + "\n")
        marker = {"format_version": FORMAT_VERSION, **run.meta}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if out.exists():
            # Two renames: a crash between them leaves the previous run in the ``.old-`` folder,
            # from which :func:`recover_interrupted_save` (called by ``load_run``) puts it back.
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    run.run_dir = out
    return out


def recover_interrupted_save(out_dir: str | Path) -> bool:
    """Put back a finished run that an interrupted :func:`save_run` had moved aside.

    When ``out_dir`` is missing but ``.<name>.old-*/<name>`` holds a finished run (with its
    completion marker), that run is moved back to ``out_dir``. Returns True when it did so.
    """
    out = Path(out_dir)
    if out.exists() or not out.parent.is_dir():
        return False
    for old in sorted(out.parent.glob(f".{out.name}.old-*")):
        previous = old / out.name
        if (previous / MARKER).is_file():
            os.replace(previous, out)
            shutil.rmtree(old, ignore_errors=True)
            return True
    return False


# -- loading --------------------------------------------------------------------------------------
def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise RunError(f"{path}: missing; the run directory is incomplete") from err
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise RunError(f"{path}: not valid JSON ({err})") from err


def load_run(run_dir: str | Path, device: str = "auto") -> RunResult:
    """Load a run written by :func:`save_run` (weights with ``weights_only=True``).

    Raises :class:`RunError` for a missing directory, a half-written run (no ``run.json`` completion
    marker), unreadable files, or weights that are not a plain tensor state dict (e.g. a pickle
    that would run code).
    """
    import torch

    from mimea_core.model import MIMEAModel, Vocab

    run = Path(run_dir)
    if not run.is_dir() and recover_interrupted_save(run):
        log.warning("%s: restored the previous run that an interrupted save had moved aside", run)
    if not run.is_dir():
        raise RunError(f"{run}: no such run directory")
    marker = run / MARKER
    if not marker.exists():
        raise RunError(
            f"{run}: not a finished run (no {MARKER} completion marker); "
            "it may be half-written or from an interrupted training"
        )
    meta = _read_json(marker)
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        raise RunError(f"{marker}: unsupported run format (expected format_version {FORMAT_VERSION})")
    try:
        config = MIMEAConfig.from_dict(_read_json(run / CONFIG))
    except MimeaError as err:
        raise RunError(f"{run / CONFIG}: {err}") from err
    except TypeError as err:
        raise RunError(f"{run / CONFIG}: bad configuration ({err})") from err
    try:
        vocab = Vocab.load(run / VOCAB)
        split, extra, pseudo = load_split(run / SPLIT)
    except (OSError, KeyError, ValueError) as err:
        raise RunError(f"{run}: cannot read {VOCAB} / {SPLIT} ({err})") from err
    dev = resolve_device(device)
    try:
        state = torch.load(run / WEIGHTS, map_location=dev, weights_only=True)
    except Exception as err:  # UnpicklingError for unsafe pickles, OSError, RuntimeError, ...
        raise RunError(
            f"{run / WEIGHTS}: refused or unreadable weights ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise RunError(f"{run / WEIGHTS}: not a state dict of tensors")
    modalities = meta.get("modalities") or list(config.modalities)
    model = MIMEAModel(config, vocab, list(modalities)).to(dev)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        raise RunError(f"{run / WEIGHTS}: does not match the configuration ({err})") from err
    model.eval()
    metrics = _read_json(run / METRICS)
    if not isinstance(metrics, dict):
        raise RunError(f"{run / METRICS}: expected a JSON object")
    history = []
    hist_path = run / HISTORY
    if hist_path.exists():
        history = [json.loads(line) for line in hist_path.read_text().splitlines() if line.strip()]
    return RunResult(
        model=model, config=config, split=split, metrics=AlignmentMetrics.from_dict(metrics),
        history=history, run_dir=run, dataset=str(meta.get("dataset", "")), meta=meta,
        extra_seeds=extra, pseudo_seeds=pseudo,
    )  # fmt: skip


# -- discovery (no weights loaded) ----------------------------------------------------------------
def _json_or_empty(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_finished(run_dir: str | Path) -> bool:
    """True when ``run_dir`` holds a finished run (its completion marker is there)."""
    return (Path(run_dir) / MARKER).is_file()


def read_metrics(run_dir: str | Path) -> AlignmentMetrics | None:
    """The test metrics of a finished run, or None when absent, unreadable or without scores."""
    data = _json_or_empty(Path(run_dir) / METRICS)
    return AlignmentMetrics.from_dict(data) if "standard" in data else None


@dataclass(frozen=True)
class RunInfo:
    """A finished run found on disk, described without loading its weights."""

    path: Path
    finished: float  # mtime of the completion marker
    meta: dict[str, Any]
    metrics: AlignmentMetrics | None


def find_runs(root: str | Path) -> list[RunInfo]:
    """Every finished run directly under ``root``, newest first (an unreadable one is skipped)."""
    root = Path(root)
    if not root.is_dir():
        return []
    found = [
        RunInfo(marker.parent, marker.stat().st_mtime, _json_or_empty(marker), read_metrics(marker.parent))
        for marker in root.glob(f"*/{MARKER}")
    ]
    return sorted(found, key=lambda r: r.finished, reverse=True)
