"""The training objective on one mini-batch of seed pairs (see :mod:`mimea_core.losses`)."""

from __future__ import annotations

import torch

from mimea_core.config import MIMEAConfig
from mimea_core.losses import (
    adaptive_pair_weights,
    beta_kl,
    distillation,
    info_nce,
    info_nce_per_pair,
    modal_alignment,
)
from mimea_core.model import MIMEAModel, ModelInputs


def batch_losses(
    model: MIMEAModel,
    inputs: ModelInputs,
    batch: torch.Tensor,
    config: MIMEAConfig,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Loss terms (already scaled by their weights) for ``batch`` (B, 2) of global ids.

    Keys: ``joint``, and when enabled ``modal``, ``ot`` (or ``mean_align`` when OT is off),
    ``kl``, ``distill``.
    """
    b = batch.shape[0]
    ids = torch.cat([batch[:, 0], batch[:, 1]])
    pres = model.present(inputs, ids)
    out = model.fuse(model.encode(inputs, ids), pres, sample=True)
    tau = model.tau
    z1, z2 = out.joint[:b], out.joint[b:]
    losses = {"joint": info_nce(z1, z2, tau)}

    if config.modal_contrastive or config.distill_weight > 0:
        if config.fusion == "uniform":
            coef = torch.ones(b, len(model.modalities), device=z1.device)
        else:
            coef = adaptive_pair_weights(out.weights[:b], out.weights[b:])
            if config.modal_weighting == "batch":  # one weight per modality: the batch mean
                coef = coef.mean(0, keepdim=True).expand_as(coef)
        modal_terms, distill_terms = [], []
        for k in range(len(model.modalities)):
            both = pres[:b, k] & pres[b:, k]
            if int(both.sum()) < 2:
                continue
            x1, x2 = out.modal[:b, k][both], out.modal[b:, k][both]
            if config.modal_contrastive:
                modal_terms.append((coef[both, k] * info_nce_per_pair(x1, x2, tau)).mean())
            if config.distill_weight > 0:
                distill_terms.append(distillation(z1[both], z2[both], x1, x2, tau))
        if modal_terms:
            losses["modal"] = config.modal_weight * torch.stack(modal_terms).sum()
        if distill_terms:
            losses["distill"] = config.distill_weight * torch.stack(distill_terms).mean()

    if config.ot_weight > 0:
        mixed = out.mixed if out.mixed is not None else out.modal
        if config.ot_target == "joint":
            sub = torch.randperm(2 * b, generator=generator)[: config.ot_batch].to(ids.device)
            rows, pairs = sub, None
        else:  # the same seed pairs on both sides
            half = torch.randperm(b, generator=generator)[: max(config.ot_batch // 2, 1)].to(ids.device)
            rows, pairs = torch.cat([half, half + b]), len(half)
        term = modal_alignment(
            out.modal.index_select(0, rows), mixed.index_select(0, rows), out.weights.index_select(0, rows),
            pres.index_select(0, rows), target=config.ot_target, use_ot=config.use_ot, reg=config.ot_reg,
            pairs=pairs,
        )  # fmt: skip
        if term is not None:
            losses["ot" if config.use_ot else "mean_align"] = config.ot_weight * term

    if out.alpha is not None and config.kl_weight > 0:
        losses["kl"] = config.kl_weight * beta_kl(out.alpha, out.beta, pres, config.beta_prior)
    return losses


def negative_pair_loss(model: MIMEAModel, inputs: ModelInputs, negatives: torch.Tensor) -> torch.Tensor:
    """Hard negatives (B, 2) of global ids, e.g. pairs a curator rejected: ``mean(relu(cos(z₁, z₂)))``.

    Pushes each rejected pair's joint embeddings to a cosine of at most 0 (rows are L2-normalised),
    so the rejected target stops being the source's nearest one.
    """
    b = negatives.shape[0]
    ids = torch.cat([negatives[:, 0], negatives[:, 1]])
    out = model.fuse(model.encode(inputs, ids), model.present(inputs, ids), sample=True)
    return torch.relu((out.joint[:b] * out.joint[b:]).sum(-1)).mean()
