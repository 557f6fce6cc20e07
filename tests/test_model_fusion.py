"""Probability-guided fusion and its ablations: weights, masks, variance, sampling."""

from __future__ import annotations

import pytest
import torch

from mimea_core.model.fusion import build_fusion


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
    # variance of Beta(a, b), zero where absent
    a, b = out.alpha, out.beta
    var = a * b / ((a + b) ** 2 * (a + b + 1))
    assert torch.allclose(out.weight_var[present], var[present])
    assert torch.all(out.weight_var[~present] == 0)
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
