"""The alignment math gives the same answers on numpy arrays and on torch tensors (as POT tests its backends)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimea_core.alignment import one_to_one_matching, sinkhorn_plan, transport_plan
from mimea_core.evaluation import validation_mrr

BACKENDS = {"numpy": np.asarray, "torch": torch.as_tensor}


@pytest.fixture(params=list(BACKENDS))
def nx(request):
    """Converts a numpy array to the backend under test."""
    return BACKENDS[request.param]


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.random((6, 5)), rng.normal(size=(6, 4)), rng.normal(size=(5, 4))


def test_sinkhorn_plan_keeps_the_backend_and_matches_the_reference(nx, data):
    M, _, _ = data
    plan = sinkhorn_plan(None, None, nx(M), reg=0.1)
    assert type(plan) is type(nx(M))
    T = _numpy(plan)
    assert np.allclose(T.sum(1), 1 / 6, atol=1e-6) and np.allclose(T.sum(0), 1 / 5, atol=1e-6)
    reference = _numpy(sinkhorn_plan(None, None, M, reg=0.1))
    assert np.allclose(T, reference, atol=1e-8)


def test_one_to_one_matching_is_the_same_on_both_backends(nx, data):
    M, _, _ = data
    for method in ("hungarian", "sinkhorn"):
        got = one_to_one_matching(nx(M), method=method)
        assert got.tolist() == one_to_one_matching(M, method=method).tolist()
        assert len(set(got[:, 0])) == len(got) == len(set(got[:, 1])) == 5


def test_transport_plan_is_the_same_on_both_backends(nx, data):
    _, X1, X2 = data
    assert np.allclose(transport_plan(nx(X1), nx(X2)), transport_plan(X1, X2), atol=1e-10)


def test_validation_mrr_is_the_same_on_both_backends(nx, data):
    _, X1, _ = data
    noisy = X1 + 0.01 * np.random.default_rng(1).normal(size=X1.shape)
    pairs = np.stack([np.arange(6), np.arange(6)], 1)
    got = validation_mrr((nx(X1), nx(noisy)), nx(pairs))
    assert got == pytest.approx(validation_mrr((X1, noisy), pairs)) and got == pytest.approx(1.0)
