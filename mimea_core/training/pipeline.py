"""``train``: the thin pipeline fit -> embed -> evaluate -> save, returning a :class:`RunResult`."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import MMKGPair, Split
from mimea_core.evaluation import evaluate_embeddings
from mimea_core.inference import embed
from mimea_core.metrics import AlignmentMetrics
from mimea_core.runs import RunResult, save_run
from mimea_core.training.distributed import current_world
from mimea_core.training.loop import fit
from mimea_core.training.progress import ProgressCallback, ProgressEvent
from mimea_core.training.runtime import deterministic_mode, gpu_figures, peak_rss_mb, torch_threads

log = logging.getLogger(__name__)


def train(
    pair: MMKGPair,
    config: MIMEAConfig,
    split: Split | None = None,
    extra_seeds: np.ndarray | None = None,
    out_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Any = None,
    init_state: dict | None = None,
    on_validation: Callable[[int, tuple[torch.Tensor, torch.Tensor]], None] | None = None,
) -> RunResult:
    """Train MIMEA on ``pair``; evaluate on ``split.test``; write ``out_dir`` when given.

    ``split`` defaults to ``make_split(pair, 0.2, config.seed)``. ``extra_seeds``, ``progress``,
    ``should_stop``, ``init_state`` (warm start) and ``on_validation`` (an observer of the joint
    embeddings after each validation) are passed to :func:`~mimea_core.training.loop.fit`.
    ``config.deterministic`` runs it under :func:`~mimea_core.training.runtime.deterministic_mode`;
    the test evaluation runs on the model's device with ``config.eval_threads`` CPU threads; under
    ``torchrun`` only rank 0 writes ``out_dir``.
    """
    with deterministic_mode(config.deterministic):
        return _train(pair, config, split, extra_seeds, out_dir, progress, should_stop, init_state, on_validation)


def _train(
    pair, config, split, extra_seeds, out_dir, progress, should_stop, init_state=None, on_validation=None
) -> RunResult:
    t_start = time.perf_counter()
    if split is None:
        from mimea_core.data import make_split

        split = make_split(pair, seed_ratio=0.2, seed=config.seed)
    fitted = fit(pair, config, split, extra_seeds=extra_seeds, progress=progress, should_stop=should_stop,
                 init_state=init_state, on_validation=on_validation)

    t_eval = time.perf_counter()
    with torch_threads(config.eval_threads):
        emb = embed(fitted.model, pair, inputs=fitted.inputs)
        scores = AlignmentMetrics.from_dict(
            evaluate_embeddings(
                emb, split, csls_k=3, device=fitted.device, decoding=config.decoding,
                decoding_reg=config.decoding_reg, decoding_iters=config.decoding_iters,
            )  # fmt: skip
        )
    eval_seconds = time.perf_counter() - t_eval
    log.info("test evaluation took %.1f s", eval_seconds)
    metrics = scores.with_run(
        dataset=pair.name, seed_ratio=float(split.seed_ratio), split_seed=int(split.seed),
        modalities=list(fitted.modalities), epochs=fitted.epochs, train_seconds=round(fitted.train_seconds, 2),
        optimizer_steps=int(sum(row.get("steps", 0) for row in fitted.history)),
        peak_rss_mb=round(peak_rss_mb(), 1), device=fitted.device,
        **gpu_figures(fitted.device),
    )  # fmt: skip
    if progress is not None:
        progress(
            ProgressEvent(
                fitted.epochs, config.epochs, {}, fitted.best_valid_mrr, time.perf_counter() - t_start,
                f"stopped: {fitted.stop_reason}; test H@1 {metrics.standard.get('hits@1', math.nan):.4f}",
            )
        )  # fmt: skip
    meta = {
        "dataset": pair.source or pair.name,
        "dataset_name": pair.name,
        "fingerprint": pair.fingerprint,
        "modalities": list(fitted.modalities),
        "num_entities": [pair.kg1.num_entities, pair.kg2.num_entities],
        "best_epoch": fitted.best_epoch,
        "stop_reason": fitted.stop_reason,
    }
    result = RunResult(
        model=fitted.model, config=config, split=split, metrics=metrics, history=fitted.history,
        dataset=str(meta["dataset"]), meta=meta, extra_seeds=fitted.extra_seeds,
        pseudo_seeds=fitted.pseudo_seeds, embeddings=emb,
    )  # fmt: skip
    if out_dir is not None and current_world().rank == 0:
        meta["total_seconds"] = round(time.perf_counter() - t_start, 2)
        save_run(result, out_dir)
    return result
