"""The training loop and only it: mini-batches of seed pairs, validation MRR, early stopping, pseudo-seeding.

:func:`fit` seeds torch and numpy, builds the vocabulary, inputs and model, trains, and returns a
:class:`FitResult` with the best model (by validation MRR). Evaluating and saving are the pipeline's
job (:mod:`mimea_core.training.pipeline`).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from mimea_core.config import MIMEAConfig, resolve_device
from mimea_core.data.types import MMKGPair, Split
from mimea_core.errors import ConfigError
from mimea_core.evaluation import validation_mrr
from mimea_core.model import MIMEAModel, ModelInputs, Vocab, available_modalities, build_vocab, prepare_inputs
from mimea_core.training.anchors import AnchorResult, value_anchors
from mimea_core.training.bootstrap import Bootstrapper, valid_precision
from mimea_core.training.distributed import current_world
from mimea_core.training.early_stopping import EarlyStopping
from mimea_core.training.objective import batch_losses, negative_pair_loss
from mimea_core.training.progress import ProgressCallback, ProgressEvent
from mimea_core.training.pseudo import mutual_nearest_pairs
from mimea_core.training.runtime import reset_gpu_peak

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """What the loop leaves: the best model (restored from validation), its inputs and the record."""

    model: MIMEAModel
    vocab: Vocab
    modalities: list[str]
    inputs: ModelInputs
    device: str
    history: list[dict[str, Any]]
    extra_seeds: np.ndarray  # checked (k, 2) curator seeds that were trained on
    pseudo_seeds: np.ndarray  # the last mined pseudo-seeds
    epochs: int  # epochs run
    best_epoch: int
    best_valid_mrr: float | None  # None without validation pairs
    stop_reason: str  # "max epochs", "early stopping", "time budget" or "cancelled"
    train_seconds: float
    anchors: AnchorResult | None = None  # label-free anchors trained on (config.value_anchors)


def _check_pairs(pairs: np.ndarray | None, pair: MMKGPair, what: str) -> np.ndarray:
    if pairs is None:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    bad = (arr[:, 0] < 0) | (arr[:, 0] >= n1) | (arr[:, 1] < 0) | (arr[:, 1] >= n2)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ConfigError(f"{what}: row {i} ({arr[i, 0]}, {arr[i, 1]}) is outside 0..{n1 - 1} / 0..{n2 - 1}")
    return arr


def _optimizer(model: MIMEAModel, config: MIMEAConfig) -> torch.optim.Optimizer:
    entity, rest = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (entity if name.endswith("graph.entity") else rest).append(p)
    groups = [{"params": rest, "weight_decay": config.weight_decay}]
    if entity:
        groups.append({"params": entity, "weight_decay": config.entity_weight_decay})
    return torch.optim.AdamW(groups, lr=config.lr)


@torch.no_grad()
def joint_embeddings(model: MIMEAModel, inputs: ModelInputs) -> tuple[torch.Tensor, torch.Tensor]:
    """Inference-mode joint embeddings of KG1 and KG2 (torch, on the model's device)."""
    was = model.training
    model.eval()
    try:
        joint = model(inputs).joint
    finally:
        model.train(was)
    n1 = inputs.num_entities[0]
    return joint[:n1], joint[n1:]


def fit(
    pair: MMKGPair,
    config: MIMEAConfig,
    split: Split,
    extra_seeds: np.ndarray | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Any = None,
    init_state: dict[str, torch.Tensor] | None = None,
    negatives: np.ndarray | None = None,
    on_validation: Callable[[int, tuple[torch.Tensor, torch.Tensor]], None] | None = None,
) -> FitResult:
    """Train MIMEA on ``split.train`` (+ ``extra_seeds``), selecting on ``split.valid``.

    ``extra_seeds`` (k, 2) local pairs (e.g. curator-accepted) are added to the training seeds.
    ``progress`` receives a :class:`ProgressEvent` at least once per epoch; ``should_stop()`` is
    polled between optimizer steps and ends training early (the best state so far is kept).
    ``init_state`` (a previous model's ``state_dict`` on the same pair and config) warm-starts the
    model: active learning retrains for a few epochs from the current weights instead of from scratch.
    ``negatives`` (r, 2) local pairs known to be wrong (curator-rejected) add
    :func:`~mimea_core.training.objective.negative_pair_loss` on a batch of them at every step.
    ``on_validation(epoch, (E1, E2))`` is called with a copy of the current joint embeddings after
    each validation (benchmarks use it to draw accuracy-over-time curves); the time it takes is left
    out of ``elapsed_s`` and ``train_seconds``, so a slow observer does not change the figures.
    """
    if config.num_threads > 0 and torch.get_num_threads() != config.num_threads:
        torch.set_num_threads(config.num_threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    device = resolve_device(config.device)
    reset_gpu_peak(device)
    extra = _check_pairs(extra_seeds, pair, "extra seeds")
    negs = _check_pairs(negatives, pair, "negatives") + np.array([0, pair.kg1.num_entities], dtype=np.int64)
    n1 = pair.kg1.num_entities

    vocab = build_vocab(pair, config.relation_topk, config.attribute_topk)
    seeds = np.concatenate([np.asarray(split.train, dtype=np.int64).reshape(-1, 2), extra])
    valid = np.asarray(split.valid, dtype=np.int64).reshape(-1, 2)
    anchors = None
    if config.value_anchors:
        anchors = value_anchors(pair, seeds[:, 0], seeds[:, 1], min_shared=config.anchor_min_shared,
                                min_margin=config.anchor_margin, valid=valid)  # fmt: skip
        seeds = np.concatenate([seeds, anchors.pairs])  # trained on like seeds; never re-mined
    if "structure" in config.modalities:
        vocab.structure_seeds = seeds  # training seeds only: never validation or test links
    modalities = available_modalities(config, vocab)
    dropped = [m for m in config.modalities if m not in modalities]
    if dropped:
        log.info("modalities without data in %s, left out: %s", pair.name, ", ".join(dropped))
    inputs = prepare_inputs(pair, vocab, modalities, device, config.graph_encoder)
    model = MIMEAModel(config, vocab, modalities).to(device)
    if init_state is not None:
        model.load_state_dict(init_state)
    opt = _optimizer(model, config)
    world = current_world()  # data-parallel under torchrun (see mimea_core.training.distributed)

    free1 = np.setdiff1d(np.arange(n1), seeds[:, 0])
    free2 = np.setdiff1d(np.arange(pair.kg2.num_entities), seeds[:, 1])
    pseudo = np.zeros((0, 2), dtype=np.int64)
    pseudo_precision: float | None = None  # of the last mining, on the validation links (logged only)
    booster = None
    if config.pseudo_method == "stable":
        booster = Bootstrapper(seeds, (n1, pair.kg2.num_entities), valid, stable=True,
                               threshold=config.pseudo_threshold, cap=config.pseudo_cap)  # fmt: skip
    offset = np.array([0, n1], dtype=np.int64)
    valid_candidates = None  # None: the validation targets (standard protocol)
    if config.valid_pool == "open":
        train_kg2 = np.asarray(split.train, dtype=np.int64).reshape(-1, 2)[:, 1]
        valid_candidates = np.union1d(np.setdiff1d(np.arange(pair.kg2.num_entities), train_kg2), valid[:, 1])
    stopper = EarlyStopping(config.patience)
    history: list[dict[str, Any]] = []
    # the anchors' mining counts as training time (it replaces part of what training would learn)
    t_train = time.perf_counter() - (anchors.seconds if anchors is not None else 0.0)
    stop_reason = "max epochs"
    epoch = 0

    def out_of_time() -> bool:
        return config.time_budget is not None and time.perf_counter() - t_train >= config.time_budget

    for epoch in range(1, config.epochs + 1):
        t_epoch = time.perf_counter()
        model.train()
        pairs = np.concatenate([seeds, pseudo]) + offset
        order = rng.permutation(len(pairs))
        sums: dict[str, float] = defaultdict(float)
        steps = 0
        interrupted = False
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            if len(idx) < 2 * world.size:
                continue
            idx = world.shard(idx)
            batch = torch.as_tensor(pairs[idx], device=device)
            losses = batch_losses(model, inputs, batch, config, gen)
            if len(negs):
                pick = negs[rng.choice(len(negs), size=min(len(negs), config.batch_size), replace=False)]
                losses["negative"] = negative_pair_loss(model, inputs, torch.as_tensor(pick, device=device))
            total = torch.stack(list(losses.values())).sum()
            opt.zero_grad(set_to_none=True)
            total.backward()
            world.average_gradients(model)
            opt.step()
            steps += 1
            for k, v in losses.items():
                sums[k] += float(v.detach())
            sums["total"] += float(total.detach())
            if world.any(should_stop is not None and bool(should_stop())):
                stop_reason, interrupted = "cancelled", True
                break
            if world.any(out_of_time()):
                stop_reason, interrupted = "time budget", True
                break
        mean_losses = {k: v / max(steps, 1) for k, v in sums.items()}
        last = epoch == config.epochs or interrupted
        valid_mrr = None
        e12 = None
        if len(valid) and (epoch % config.eval_every == 0 or last):
            e12 = joint_embeddings(model, inputs)
            valid_mrr = validation_mrr(e12, valid, candidates=valid_candidates)
            stopper.update(valid_mrr, epoch, model)
            if on_validation is not None:
                t_hook = time.perf_counter()
                on_validation(epoch, (e12[0].clone(), e12[1].clone()))  # its own copies
                observed = time.perf_counter() - t_hook  # observer time is not training time
                t_train += observed
                t_epoch += observed
        message = ""
        if (
            config.pseudo_seeding
            and not last
            and epoch >= config.pseudo_start
            and (epoch - config.pseudo_start) % config.pseudo_every == 0
        ):
            e12 = e12 or joint_embeddings(model, inputs)
            if booster is not None:
                booster.step(e12[0], e12[1])
                pseudo = booster.pairs
                pseudo_precision = booster.rounds[-1].valid_precision
            else:
                pseudo = mutual_nearest_pairs(e12[0], e12[1], free1, free2, config.pseudo_threshold)
                _, pseudo_precision = valid_precision(pseudo, valid)
            message = (
                f"epoch {epoch}: {len(pseudo)} pseudo-seeds (mutual nearest neighbours >= {config.pseudo_threshold}; "
                f"precision {pseudo_precision:.3f} on the validation sources they cover)"
            )
            log.debug(message)
        row = {
            "epoch": epoch,
            "losses": mean_losses,
            "valid_mrr": valid_mrr,
            "pseudo_seeds": int(len(pseudo)),
            "steps": steps,
            "pseudo_valid_precision": pseudo_precision,
            "anchor_seeds": int(len(anchors.pairs)) if anchors is not None else 0,
            "anchor_valid_precision": anchors.valid_precision if anchors is not None else None,
            "epoch_seconds": time.perf_counter() - t_epoch,
            "elapsed_s": time.perf_counter() - t_train,
        }
        history.append(row)
        if progress is not None:
            progress(ProgressEvent(epoch, config.epochs, mean_losses, valid_mrr, row["elapsed_s"], message))
        if interrupted:
            break
        if len(valid) and stopper.should_stop:
            stop_reason = "early stopping"
            break
    train_seconds = time.perf_counter() - t_train
    returned_epoch, returned_mrr = stopper.best_epoch, stopper.best_score
    if len(valid) and config.restore_best:
        stopper.restore(model)
    elif len(valid):  # keep the last epoch's weights (validated at the last epoch, see `last` above)
        last_mrr = next((row["valid_mrr"] for row in reversed(history) if row["valid_mrr"] is not None), None)
        returned_epoch, returned_mrr = epoch, float("nan") if last_mrr is None else last_mrr
    log.info(
        "training stopped after %d epochs (%s); best validation MRR %.4f at epoch %d; %.1f s",
        epoch, stop_reason, stopper.best_score, stopper.best_epoch, train_seconds,
    )  # fmt: skip

    return FitResult(
        model=model, vocab=vocab, modalities=list(modalities), inputs=inputs, device=device,
        history=history, extra_seeds=extra, pseudo_seeds=pseudo, epochs=epoch, best_epoch=returned_epoch,
        best_valid_mrr=returned_mrr if len(valid) else None, stop_reason=stop_reason,
        train_seconds=train_seconds, anchors=anchors,
    )  # fmt: skip
