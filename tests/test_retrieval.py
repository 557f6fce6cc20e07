"""Top-k inner-product search: exact equals brute force; faiss (optional extra) behind ``suggest``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimea_core.candidates import suggest
from mimea_core.embeddings import Embeddings
from mimea_core.errors import ConfigError
from mimea_core.retrieval import top_inner_products


def _clustered(n: int, dim: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n // 20, dim))
    x = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, dim))
    y = x[rng.permutation(n)] + 0.3 * rng.normal(size=(n, dim))
    unit = lambda a: (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)  # noqa: E731
    return unit(x), unit(y)


def test_exact_search_equals_brute_force():
    x, y = _clustered(500)
    scores, idx = top_inner_products(x, y, 7, chunk_size=64)
    full = x @ y.T
    ref = np.argsort(-full, axis=1)[:, :7]
    assert np.array_equal(idx, ref)
    assert np.allclose(scores, np.take_along_axis(full, ref, 1), atol=1e-5)
    with pytest.raises(ConfigError, match="retrieval method"):
        top_inner_products(x, y, 3, method="annoy")


def test_faiss_recall_and_suggest_behind_the_same_api():
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    torch.set_num_threads(1)
    x, y = _clustered(4000)
    _, exact = top_inner_products(x, y, 10)
    _, approx = top_inner_products(x, y, 10, method="faiss", nprobe=32)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
    assert recall >= 0.95, recall
    emb = Embeddings.from_joint(x, y)
    a = suggest(emb, top_k=10)
    b = suggest(emb, top_k=10, retrieval="faiss")
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    top1 = (a[a["rank"] == 1]["target"].to_numpy() == b[b["rank"] == 1]["target"].to_numpy()).mean()
    assert top1 >= 0.95, top1
