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


def test_faiss_candidates_score_csls_like_exact_for_pooled_and_extra_sources():
    """Seeds left out of the pools, and sources asked for outside the pool: the faiss path finds
    nearly all exact candidates, and the scores of those it finds are the exact CSLS scores."""
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    torch.set_num_threads(1)
    x, y = _clustered(3000, seed=1)
    emb = Embeddings.from_joint(x, y)
    seeds = np.arange(0, 3000, 10)
    asked = np.concatenate([seeds[:20], np.arange(1, 400, 3)])  # 20 sources outside the pool
    kwargs = {"top_k": 5, "sources": asked, "exclude_kg1": seeds, "exclude_kg2": seeds}
    for csls_k in (3, 0):
        exact = suggest(emb, csls_k=csls_k, **kwargs)
        approx = suggest(emb, csls_k=csls_k, retrieval="faiss", **kwargs)
        assert approx["source"].tolist() == exact["source"].tolist()
        both = exact.merge(approx, on=["source", "target"], suffixes=("_exact", "_faiss"))
        assert len(both) >= 0.95 * len(exact), len(both) / len(exact)
        close = np.isclose(both["score_exact"], both["score_faiss"], atol=1e-4).mean()
        assert close >= 0.95, close
        assert not approx["target"].isin(seeds).any()
    every = {"top_k": 3, "sources": [1, 2, 3], "exclude_kg1": np.arange(3000)}  # empty KG1 pool: r_S = 0
    exact, approx = suggest(emb, **every), suggest(emb, retrieval="faiss", **every)
    assert np.array_equal(exact["target"], approx["target"])
    assert np.allclose(exact["score"], approx["score"], atol=1e-4) and not approx["mutual_nn"].isna().any()


def test_faiss_index_reuses_the_cells_of_an_index_over_the_same_entities():
    """An augmented space searched in the cosine index's cells: no second k-means, same recall."""
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    from mimea_core.retrieval import InnerProductIndex

    x, y = _clustered(4000, seed=2)
    cosine = InnerProductIndex(y, method="faiss", nprobe=32)
    bias = np.random.default_rng(0).uniform(-0.2, 0.0, (len(y), 1)).astype(np.float32)
    augmented = np.hstack([y, bias])  # a per-row bias, as CSLS adds: queries carry a 1 there
    queries = np.hstack([x, np.ones((len(x), 1), np.float32)])
    index = InnerProductIndex(augmented, method="faiss", nprobe=32, cells=cosine.cells)
    assert index._index.nlist == cosine._index.nlist  # its cells, not a new k-means
    assert (index.cells == cosine.cells).mean() > 0.9  # a row may move to a nearer centroid
    _, exact = top_inner_products(queries, augmented, 10)
    _, approx = index.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, approx, strict=True)])
    assert recall >= 0.95, recall
    with pytest.raises(ValueError, match="cells"):
        InnerProductIndex(augmented[:100], method="faiss", cells=cosine.cells)


def test_faiss_sq8_finds_the_flat_candidates_and_scores_them_exactly():
    """8-bit codes find nearly what exact search finds, and the scores returned are the exact CSLS."""
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    torch.set_num_threads(1)
    x, y = _clustered(3000, seed=3)
    emb = Embeddings.from_joint(x, y)
    seeds = np.arange(0, 3000, 10)
    kwargs = {"top_k": 5, "exclude_kg1": seeds, "exclude_kg2": seeds, "sources": np.arange(1, 3000, 7)}
    exact = suggest(emb, **kwargs)
    sq8 = suggest(emb, retrieval="faiss-sq8", **kwargs)
    both = exact.merge(sq8, on=["source", "target"], suffixes=("_exact", "_sq8"))
    assert len(both) >= 0.95 * len(exact), len(both) / len(exact)
    close = np.isclose(both["score_exact"], both["score_sq8"], atol=1e-4).mean()
    assert close >= 0.95, close  # re-scored, not decoded (a missed CSLS neighbour moves r a little)
    for _, rows in sq8.groupby("source"):
        assert (np.diff(rows["score"].to_numpy()) <= 1e-6).all()  # best first after re-scoring


def test_lazy_rows_index_equals_the_array_index_and_never_makes_every_row_at_once(monkeypatch):
    """An index over :class:`LazyRows` is the index over the array, built from blocks: no call
    makes all the rows (k-means sees a sample of 64 per cell, rows are added and searched in blocks)."""
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    from mimea_core import retrieval
    from mimea_core.retrieval import InnerProductIndex, LazyRows

    monkeypatch.setattr(retrieval, "BLOCK_ROWS", 5000)
    rng = np.random.default_rng(0)
    base = rng.normal(size=(70_000, 4)).astype(np.float32)
    made: list[int] = []

    def make(at: np.ndarray) -> np.ndarray:
        made.append(len(at))
        return base[at]

    queries = base[:300] + 0.01
    for method in ("faiss", "faiss-sq8"):
        made.clear()
        lazy = InnerProductIndex(LazyRows(len(base), 4, make), method=method, nprobe=8)
        assert max(made) < len(base) and len(made) > 2, made
        eager = InnerProductIndex(base, method=method, nprobe=8)
        assert np.array_equal(lazy.cells, eager.cells)
        (s1, i1), (s2, i2) = lazy.search(queries, 5), eager.search(LazyRows(300, 4, lambda at: queries[at]), 5)
        assert np.array_equal(i1, i2) and np.allclose(s1, s2)
        assert np.allclose(s1, np.take_along_axis(queries @ base.T, i1, 1), atol=1e-5)  # exact scores


def test_auto_is_exact_for_small_pools_and_on_a_gpu_and_faiss_for_large_ones():
    from mimea_core.retrieval import AUTO_EXACT_MAX_PAIRS, resolve_method

    assert resolve_method("auto", 1000, 1000) == "exact"
    assert resolve_method("auto", AUTO_EXACT_MAX_PAIRS, 2, "cuda") == "exact"
    assert resolve_method("faiss-sq8", 10, 10) == "faiss-sq8"  # an explicit choice stands
    try:
        import faiss  # noqa: F401

        large = "faiss"
    except ImportError:
        large = "exact"  # without the optional extra, auto never fails
    assert resolve_method("auto", AUTO_EXACT_MAX_PAIRS, 2) == large
    with pytest.raises(ConfigError, match="retrieval method"):
        resolve_method("annoy", 1, 1)
    x, y = _clustered(200)
    assert suggest(Embeddings.from_joint(x, y), retrieval="auto").attrs["retrieval"] == "exact"  # what it used
