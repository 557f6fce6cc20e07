"""Loss terms on tiny known cases, and gradients reaching every encoder."""

from __future__ import annotations

import math

import pytest
import torch
from tiny import FAST, make_tiny_pair

from mimea_core.losses import (
    adaptive_modal_weights,
    adaptive_pair_weights,
    beta_kl,
    info_nce,
    info_nce_per_pair,
    mean_alignment_loss,
    modal_alignment,
    ot_alignment_loss,
)
from mimea_core.model import MIMEAModel, available_modalities, build_inputs, build_vocab
from mimea_core.training.objective import batch_losses

# the tiny pair's random values share few tokens across the KGs, so a batch may hold no value
# modality at all (tests/test_structure.py covers it): these tests use the four dense modalities
FOUR = ("graph", "relation", "attribute", "visual")

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


def test_per_pair_weights_weigh_each_pair_by_its_own_fusion_weights():
    w1 = torch.tensor([[0.9, 0.1], [0.1, 0.9]])
    c = adaptive_pair_weights(w1, w1)
    assert torch.allclose(c, 2 * w1)
    assert torch.allclose(adaptive_modal_weights(w1, w1), c.mean(0))
    z1, z2 = torch.eye(3), torch.eye(3).flip(0)
    assert torch.allclose(info_nce_per_pair(z1, z2, 0.5).mean(), info_nce(z1, z2, 0.5))


def test_objective_weights_modal_terms_per_pair():
    """Doubling one pair's fusion weight on a modality changes that modality's term as c_i l_i says."""
    pair = make_tiny_pair(n=40, visual="full")
    vocab = build_vocab(pair, 100, 100)
    config = FAST.replace(
        entity_dropout=0.0, use_ot=False, ot_weight=0.0, kl_weight=0.0, modal_weighting="pair", modalities=FOUR
    )
    mods = available_modalities(config, vocab)
    torch.manual_seed(0)
    model = MIMEAModel(config, vocab, mods).eval()
    inputs = build_inputs(pair, vocab)
    n1 = pair.kg1.num_entities
    batch = torch.as_tensor(pair.links[:16] + [0, n1])
    torch.manual_seed(1)
    got = batch_losses(model, inputs, batch, config)["modal"]
    torch.manual_seed(1)
    ids = torch.cat([batch[:, 0], batch[:, 1]])
    pres = model.present(inputs, ids)
    out = model.fuse(model.encode(inputs, ids), pres, sample=True)
    c = adaptive_pair_weights(out.weights[:16], out.weights[16:])
    want = 0
    for k in range(len(mods)):
        both = pres[:16, k] & pres[16:, k]
        terms = info_nce_per_pair(out.modal[:16, k][both], out.modal[16:, k][both], model.tau)
        want = want + (c[both, k] * terms).mean()
    assert torch.allclose(got, config.modal_weight * want, rtol=1e-5)


@pytest.mark.parametrize("use_ot", [True, False])
@pytest.mark.parametrize("target", ["joint", "cross_kg"])
def test_modal_alignment_masks_absent_modalities(use_ot, target):
    torch.manual_seed(0)
    n, m, d = 12, 3, 8
    modal = torch.nn.functional.normalize(torch.randn(n, m, d), dim=-1)
    weights = torch.full((n, m), 1 / m)
    present = torch.ones(n, m, dtype=torch.bool)
    present[::2, 1] = False
    kw = dict(target=target, use_ot=use_ot, reg=0.05, pairs=n // 2)
    base = modal_alignment(modal, modal, weights, present, **kw)
    garbage = modal.clone()
    garbage[~present] = torch.nn.functional.normalize(torch.randn(int((~present).sum()), d), dim=-1)
    if target == "joint":  # absent slots carry no weight in the joint embedding either
        w = weights * present
        w = w / w.sum(1, keepdim=True)
        assert torch.allclose(
            modal_alignment(modal, modal, w, present, **kw),
            modal_alignment(garbage, garbage, w, present, **kw),
        )
    else:
        assert torch.allclose(base, modal_alignment(garbage, garbage, weights, present, **kw))


def test_mean_alignment_is_zero_for_equal_means_only():
    x = torch.eye(4)
    assert mean_alignment_loss(x, x.flip(0)).item() == 0  # same mean, different points: naive
    assert ot_alignment_loss(x, x.flip(0), 0.05).item() < 1e-3  # OT finds the permutation too
    assert mean_alignment_loss(x, -x).item() > 0.5


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
    config = FAST.replace(entity_dropout=0.0, distill_weight=0.1, modalities=FOUR, cross_modal=True)
    mods = available_modalities(config, vocab)
    assert mods == list(FOUR)
    model = MIMEAModel(config, vocab, mods)
    inputs = build_inputs(pair, vocab)
    n1 = pair.kg1.num_entities
    batch = torch.as_tensor(pair.links[:16] + [0, n1])
    losses = batch_losses(model, inputs, batch, config)
    assert set(losses) == {"joint", "modal", "ot", "kl", "distill"}
    assert not any("ot_proj" in name for name, _ in model.named_parameters())  # no free projection
    torch.stack(list(losses.values())).sum().backward()
    for m in mods:
        grads = [p.grad for p in model.encoders[m].parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), m
    assert model.encoders["graph"].entity.grad.abs().sum() > 0
    assert model.encoders["graph"].layers[0].att_src.grad.abs().sum() > 0  # attention learns
    assert model.fusion.head_w.grad.abs().sum() > 0
    assert model.fusion.attn.in_proj_weight.grad.abs().sum() > 0 and model.fusion.gate.grad.abs().sum() > 0


@pytest.mark.parametrize(("use_ot", "target"), [(True, "joint"), (True, "cross_kg"), (False, "joint")])
def test_alignment_and_interaction_gradients_reach_the_encoders(use_ot, target):
    """The OT (or naive mean) term alone moves every encoder, the fusion heads and the attention."""
    pair = make_tiny_pair(n=40, visual="full")
    vocab = build_vocab(pair, 100, 100)
    config = FAST.replace(entity_dropout=0.0, use_ot=use_ot, ot_target=target, modalities=FOUR, cross_modal=True)
    mods = available_modalities(config, vocab)
    model = MIMEAModel(config, vocab, mods)
    inputs = build_inputs(pair, vocab)
    batch = torch.as_tensor(pair.links[:16] + [0, pair.kg1.num_entities])
    losses = batch_losses(model, inputs, batch, config)
    key = "ot" if use_ot else "mean_align"
    assert losses[key].item() > 0
    losses[key].backward()
    for m in mods:
        grads = [p.grad for p in model.encoders[m].parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads), m
    if target == "joint":  # the joint side is not detached: the fusion weights and attention move
        assert model.fusion.head_w.grad.abs().sum() > 0
        assert model.fusion.attn.in_proj_weight.grad.abs().sum() > 0
