"""The training objective on one mini-batch of seed pairs (see :mod:`mimea_core.losses`)."""

from __future__ import annotations

import torch

from mimea_core.config import MIMEAConfig
from mimea_core.losses import adaptive_modal_weights, beta_kl, distillation, info_nce, ot_alignment_loss
from mimea_core.model import MIMEAModel, ModelInputs


def batch_losses(
    model: MIMEAModel,
    inputs: ModelInputs,
    batch: torch.Tensor,
    config: MIMEAConfig,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """Loss terms (already scaled by their weights) for ``batch`` (B, 2) of global ids.

    Keys: ``joint``, and when enabled ``modal``, ``ot``, ``kl``, ``distill``.
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
            coef = torch.ones(len(model.modalities), device=z1.device)
        else:
            coef = adaptive_modal_weights(out.weights[:b], out.weights[b:])
        modal_terms, distill_terms = [], []
        for k in range(len(model.modalities)):
            both = pres[:b, k] & pres[b:, k]
            if int(both.sum()) < 2:
                continue
            x1, x2 = out.modal[:b, k][both], out.modal[b:, k][both]
            if config.modal_contrastive:
                modal_terms.append(coef[k] * info_nce(x1, x2, tau))
            if config.distill_weight > 0:
                distill_terms.append(distillation(z1[both], z2[both], x1, x2, tau))
        if modal_terms:
            losses["modal"] = config.modal_weight * torch.stack(modal_terms).sum()
        if distill_terms:
            losses["distill"] = config.distill_weight * torch.stack(distill_terms).mean()

    if config.use_ot and config.ot_weight > 0:
        n = ids.shape[0]
        sub = torch.randperm(n, generator=generator)[: config.ot_batch].to(ids.device)
        joint = out.joint.index_select(0, sub).detach()
        terms = [
            ot_alignment_loss(model.ot_proj[m](out.modal.index_select(0, sub)[:, k]), joint, config.ot_reg)
            for k, m in enumerate(model.modalities)
        ]
        losses["ot"] = config.ot_weight * torch.stack(terms).mean()

    if out.alpha is not None and config.kl_weight > 0:
        losses["kl"] = config.kl_weight * beta_kl(out.alpha, out.beta, pres, config.beta_prior)
    return losses
