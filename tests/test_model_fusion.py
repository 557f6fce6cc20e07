"""Probability-guided fusion and its ablations: weights, masks, variance, sampling."""

from __future__ import annotations

import pytest
import torch

from mimea_core.model.fusion import build_fusion, renormalised_weight_var


def _batch(b=16, m=4, d=8):
    torch.manual_seed(0)
    x = torch.randn(b, m, d)
    present = torch.rand(b, m) > 0.4
    present[:, 0] = True  # graph is always present
    return x, present


@pytest.mark.parametrize("sample", [False, True])
def test_beta_weights_in_unit_interval_and_sum_to_one_over_present(sample):
    x, present = _batch()
    fusion = build_fusion("beta", 4, 8, heads=2)
    out = fusion(x, present, sample=sample)
    w = out.weights
    assert torch.all(w[~present] == 0)
    assert torch.all((w[present] > 0) & (w[present] <= 1))
    assert torch.allclose(w.sum(1), torch.ones(len(w)), atol=1e-5)
    assert torch.all((out.alpha > 0) & (out.beta > 0))
    # variance of the renormalised weight (delta method over the Betas), zero where absent
    a, b = out.alpha, out.beta
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert torch.allclose(out.weight_var, renormalised_weight_var(a / (a + b), var, present))
    assert torch.all(out.weight_var[~present] == 0)
    single = present.sum(1) == 1
    assert torch.all(out.weight_var[single] == 0)  # one modality: its weight is always 1
    assert torch.allclose(out.joint.norm(dim=1), torch.ones(len(w)), atol=1e-5)
    assert out.joint.shape == (16, 32)


def test_beta_inference_is_deterministic_training_samples():
    x, present = _batch()
    fusion = build_fusion("beta", 4, 8, heads=2)
    m1 = fusion(x, present, sample=False).weights
    m2 = fusion(x, present, sample=False).weights
    assert torch.equal(m1, m2)
    torch.manual_seed(1)
    s1 = fusion(x, present, sample=True).weights
    s2 = fusion(x, present, sample=True).weights
    assert not torch.allclose(s1, s2)


def test_sampled_weights_are_differentiable():
    x, present = _batch()
    x.requires_grad_(True)
    fusion = build_fusion("beta", 4, 8, heads=2)
    out = fusion(x, present, sample=True)
    (out.joint[:, :8].sum() + out.weights[:, 1].sum()).backward()
    assert fusion.head_w.grad is not None and fusion.head_w.grad.abs().sum() > 0
    assert x.grad.abs().sum() > 0


def test_uniform_and_attention_fusions():
    x, present = _batch()
    uni = build_fusion("uniform", 4, 8)(x, present, sample=True)
    expected = present.float() / present.float().sum(1, keepdim=True)
    assert torch.allclose(uni.weights, expected)
    assert torch.all(uni.weight_var == 0) and uni.alpha is None
    att = build_fusion("attention", 4, 8, heads=2)(x, present, sample=True)
    assert torch.allclose(att.weights.sum(1), torch.ones(16), atol=1e-5)
    assert torch.all(att.weights[~present] == 0)
    assert not torch.allclose(att.joint, uni.joint)


def test_absent_modality_does_not_change_joint():
    x, present = _batch()
    fusion = build_fusion("beta", 4, 8, heads=2).eval()
    out = fusion(x, present, sample=False)
    x2 = x.clone()
    x2[~present] = torch.randn(int((~present).sum()), 8) * 100  # garbage in absent slots
    out2 = fusion(x2, present, sample=False)
    assert torch.allclose(out.joint, out2.joint, atol=1e-5)


def test_renormalised_weight_variance_matches_monte_carlo():
    alpha = torch.tensor([[30.0, 20.0, 40.0], [25.0, 25.0, 60.0]])
    beta = torch.tensor([[20.0, 30.0, 25.0], [25.0, 50.0, 30.0]])
    present = torch.tensor([[True, True, True], [True, False, True]])
    mean = alpha / (alpha + beta)
    s = alpha + beta
    var = alpha * beta / (s * s * (s + 1))
    delta = renormalised_weight_var(mean, var, present)
    torch.manual_seed(0)
    r = torch.distributions.Beta(alpha, beta).sample((200_000,)) * present
    w = r / r.sum(-1, keepdim=True)
    mc = w.var(0)
    assert torch.allclose(delta[present], mc[present], rtol=0.05)
    assert torch.all(delta[~present] == 0)
    assert torch.all(delta[present] < var[present])  # renormalising shrinks the spread here


@pytest.mark.parametrize("kind", ["beta", "attention", "uniform"])
def test_cross_modal_interaction_reaches_the_joint_embedding(kind):
    x, present = _batch()
    present[:] = True
    x.requires_grad_(True)
    torch.manual_seed(0)
    fusion = build_fusion(kind, 4, 8, heads=2, cross_modal=True)
    out = fusion(x, present, sample=False)
    # the joint block of modality 0 depends on the other modalities' inputs through the attention
    (g,) = torch.autograd.grad(out.joint[:, :8].sum(), x, retain_graph=True)
    assert g[:, 1:].abs().sum() > 0
    assert out.mixed is not None and not torch.allclose(out.mixed, out.modal)
    out.joint.sum().backward()
    assert fusion.attn.in_proj_weight.grad.abs().sum() > 0 and fusion.gate.grad.abs().sum() > 0
    off = build_fusion(kind, 4, 8, heads=2, cross_modal=False)
    assert not hasattr(off, "attn")
    out_off = off(x, present, sample=False)
    assert torch.equal(out_off.mixed, out_off.modal)
