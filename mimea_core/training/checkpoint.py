"""Run directories, written atomically.

Layout of ``runs/NAME/``::

    weights.pt      model state dict (tensors only; loaded with ``torch.load(weights_only=True)``)
    config.json     MIMEAConfig.to_dict()
    vocab.npz       relations/attributes kept and value quantiles (no pickles)
    split.npz       train/valid/test rows, extra (curator) seeds, pseudo-seeds, seed ratio, split seed
    metrics.json    test metrics (DESIGN.md section 3 shape)
    history.jsonl   one JSON object per epoch (losses, validation MRR, seconds)
    run.json        run description (dataset, modalities, entity counts); written last: the
                    completion marker

Everything is written into a temporary sibling folder which then replaces ``NAME`` with
``os.replace``, so a reader never sees a half-written run under the final name.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import Split
from mimea_core.errors import RunError
from mimea_core.model import Vocab

WEIGHTS = "weights.pt"
CONFIG = "config.json"
VOCAB = "vocab.npz"
SPLIT = "split.npz"
METRICS = "metrics.json"
HISTORY = "history.jsonl"
MARKER = "run.json"
FORMAT_VERSION = 1


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


def save_run(
    out_dir: str | Path,
    *,
    state_dict: dict[str, torch.Tensor],
    config: MIMEAConfig,
    vocab: Vocab,
    split: Split,
    extra_seeds: np.ndarray,
    pseudo_seeds: np.ndarray,
    metrics: dict[str, Any],
    history: list[dict[str, Any]],
    meta: dict[str, Any],
) -> Path:
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise RunError(f"{out}: exists and is not a directory; choose another --out")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, tmp / WEIGHTS)
        (tmp / CONFIG).write_text(json.dumps(config.to_dict(), indent=2) + "\n")
        vocab.save(tmp / VOCAB)
        save_split(tmp / SPLIT, split, extra_seeds, pseudo_seeds)
        (tmp / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
        with open(tmp / HISTORY, "w") as fh:
            for row in history:
                fh.write(json.dumps(row) + "\n")
        (tmp / MARKER).write_text(json.dumps({"format_version": FORMAT_VERSION, **meta}, indent=2) + "\n")
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
