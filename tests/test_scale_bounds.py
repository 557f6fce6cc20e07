"""Bounded memory: each part that could be N x N is checked on a small N against a set cap.

:class:`LargestTensor` records the largest tensor (in elements) that torch creates inside a block,
so "bounded" is measured, not assumed: the unbounded form of each computation must exceed the cap
(the test is meaningful) and the bounded form must stay under it (and give the same result).
"""

from __future__ import annotations

import numpy as np
import torch
from tiny import FAST, make_tiny_pair
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from mimea_core.evaluation import one_to_one_hits
from mimea_core.evaluation.protocols import csls_matrix
from mimea_core.inference import embed
from mimea_core.model import MIMEAModel, available_modalities, build_vocab
from mimea_core.training.pseudo import mutual_nearest_pairs


class LargestTensor(TorchDispatchMode):
    """Largest tensor (elements; non-zeros for sparse layouts) produced by any torch op in the block."""

    def __init__(self) -> None:
        super().__init__()
        self.largest = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if isinstance(t, torch.Tensor):
                size = t._nnz() if t.layout != torch.strided else t.numel()
                self.largest = max(self.largest, int(size))
        return out


def _noisy_copy(n: int, dim: int = 16, noise: float = 0.3, seed: int = 0):
    rng = np.random.default_rng(seed)
    e1 = rng.normal(size=(n, dim)).astype(np.float32)
    perm = rng.permutation(n)
    e2 = np.empty_like(e1)
    e2[perm] = e1 + noise * rng.normal(size=e1.shape).astype(np.float32)
    norm = lambda x: torch.nn.functional.normalize(torch.as_tensor(x), dim=1)  # noqa: E731
    return norm(e1), norm(e2), np.stack([np.arange(n), perm], 1)


def test_one_to_one_decoding_never_builds_the_dense_matrix_above_the_cap():
    n = 600
    cap = n * n // 8
    E1, E2, test = _noisy_copy(n)
    with LargestTensor() as dense_mode:
        csls_matrix(E1, E2, 3)
    assert dense_mode.largest >= n * n > cap
    exact = one_to_one_hits(E1, E2, test)  # dense: Hungarian on the full matrix
    with LargestTensor() as mode:
        sparse = one_to_one_hits(E1, E2, test, max_elements=cap // 4, support_k=16)
    assert mode.largest <= cap, mode.largest
    assert np.isfinite(sparse) and abs(sparse - exact) <= 0.02, (sparse, exact)
    assert exact > 0.5  # the problem is easy enough that both decodings mean something


def test_one_to_one_decoding_with_nan_rows_is_a_number_not_nan():
    E1, E2, test = _noisy_copy(200)
    E1 = E1.clone()
    E1[:10] = float("nan")
    hits = one_to_one_hits(E1, E2, test, max_elements=1000)
    assert np.isfinite(hits) and hits <= 190 / 200


def test_pseudo_mining_is_capped_and_matches_the_one_block_result():
    n = 500
    cap = n * n // 10
    E1, E2, _ = _noisy_copy(n)
    cand = np.arange(n)
    with LargestTensor() as whole:
        ref = mutual_nearest_pairs(E1, E2, cand, cand, 0.5)
    assert whole.largest >= n * n > cap
    with LargestTensor() as mode:
        got = mutual_nearest_pairs(E1, E2, cand, cand, 0.5, max_elements=cap)
    assert mode.largest <= cap, mode.largest
    assert len(ref) > n // 2 and np.array_equal(got, ref)


def test_embed_streams_the_fusion_in_blocks():
    pair = make_tiny_pair(n=200)
    config = FAST.replace(modalities=("graph", "relation", "attribute"))
    vocab = build_vocab(pair, 100, 100)
    torch.manual_seed(0)
    model = MIMEAModel(config, vocab, available_modalities(config, vocab))
    n, m, d = 400, 3, config.dim
    cap = n * m * d // 2  # below the (N, M, d) stack the one-shot fusion builds
    with LargestTensor() as whole:
        ref = embed(model, pair, chunk_size=n)
    assert whole.largest >= n * m * d > cap
    with LargestTensor() as mode:
        got = embed(model, pair, chunk_size=50)
    assert mode.largest <= cap, mode.largest
    for a, b in zip(ref.joint, got.joint, strict=True):
        assert np.allclose(a, b, atol=1e-6)
    for name in ref.modalities:
        assert np.allclose(ref.weights[name][0], got.weights[name][0], atol=1e-6)
