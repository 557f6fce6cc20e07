"""Loss terms on tiny known cases, and gradients reaching every encoder."""

from __future__ import annotations

import math

import torch
from tiny import FAST, make_tiny_pair

from mimea_core.losses import adaptive_modal_weights, beta_kl, info_nce, ot_alignment_loss
from mimea_core.model import MIMEAModel, available_modalities, build_inputs, build_vocab
from mimea_core.training.objective import batch_losses


def test_info_nce_known_case():
    z = torch.eye(2)
    tau = 0.5
    # each row: -log(e^{1/tau} / (e^{1/tau} + e^0)) = log(1 + e^{-1/tau}), same in both directions
    assert math.isclose(info_nce(z, z, tau).item(), math.log(1 + math.exp(-1 / tau)), rel_tol=1e-6)
    # swapped partners: the gold logit is the small one
    assert math.isclose(info_nce(z, z.flip(0), tau).item(), math.log(1 + math.exp(1 / tau)), rel_tol=1e-6)


def test_adaptive_weights_are_one_for_uniform_fusion():
    w = torch.full((5, 3), 1 / 3)
    assert torch.allclose(adaptive_modal_weights(w, w), torch.ones(3))
    w2 = torch.tensor([[0.8, 0.2, 0.0]] * 4)
    c = adaptive_modal_weights(w2, w2)
    assert c[0] > c[1] > c[2] == 0


def test_ot_loss_zero_when_aligned_positive_when_not():
    x = torch.eye(4)
    assert ot_alignment_loss(x, x, 0.05).item() < 1e-3
    assert ot_alignment_loss(x, torch.ones(4, 4) + torch.eye(4) * 0.1, 0.05).item() > 0.1


def test_beta_kl_zero_at_prior_and_masked():
    a = torch.full((3, 2), 2.0)
    present = torch.tensor([[True, False]] * 3)
    assert beta_kl(a, a, present, (2.0, 2.0)).item() < 1e-6
    a2 = a.clone()
    a2[:, 1] = 9.0  # far from the prior, but absent: ignored
    assert beta_kl(a2, a, present, (2.0, 2.0)).item() < 1e-6
    assert beta_kl(a2, a, ~present, (2.0, 2.0)).item() > 0.1


def test_gradients_reach_every_encoder():
    pair = make_tiny_pair(n=40, visual="full")
    vocab = build_vocab(pair, 100, 100)
    config = FAST.replace(entity_dropout=0.0, distill_weight=0.1)
    mods = available_modalities(config, vocab)
    assert mods == ["graph", "relation", "attribute", "visual"]
    model = MIMEAModel(config, vocab, mods)
    inputs = build_inputs(pair, vocab)
    n1 = pair.kg1.num_entities
    batch = torch.as_tensor(pair.links[:16] + [0, n1])
    losses = batch_losses(model, inputs, batch, config)
    assert set(losses) == {"joint", "modal", "ot", "kl", "distill"}
    torch.stack(list(losses.values())).sum().backward()
    for m in mods:
        grads = [p.grad for p in model.encoders[m].parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), m
    assert model.encoders["graph"].entity.grad.abs().sum() > 0
    assert model.encoders["graph"].layers[0].att_src.grad.abs().sum() > 0  # attention learns
    assert model.fusion.head_w.grad.abs().sum() > 0
    assert all(model.ot_proj[m].weight.grad.abs().sum() > 0 for m in mods)
