"""Top-k maximum-inner-product search: exact (torch, chunked) or approximate (faiss, optional).

``faiss`` is an optional extra (``pip install faiss-cpu``, or the GPU build where present); it is
imported only when an approximate method is asked for, and a missing package is a clear
:class:`~mimea_core.errors.ConfigError`. Methods:

- ``"exact"``: blocks of ``queries @ base.T`` with ``topk``; memory bounded by
  :data:`~mimea_core.evaluation.similarity.MAX_BLOCK_ELEMENTS` scores per block.
- ``"faiss"``: an inverted-file index (``IndexIVFFlat``, inner product) with ``nlist = 4 sqrt(n)``
  k-means cells (trained on at most 256 points per cell, seeded), searching ``nprobe`` cells per query:
  memory O(n·d), time ~ O(n·d·nprobe/nlist) per query instead of O(n·d). Scores of the returned
  neighbours are exact inner products; only *which* neighbours are found is approximate
  (``recall@k`` against exact search is measured in ``benchmarks/faiss_recall.py``).

CSLS ranking is an inner product of augmented vectors (see ``mimea_core.candidates._augment``), so
the same search serves cosine and CSLS candidates.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mimea_core.errors import ConfigError
from mimea_core.evaluation.similarity import row_chunks

METHODS = ("exact", "faiss")


def _faiss():
    try:
        import faiss
    except ImportError as err:
        raise ConfigError("approximate retrieval needs faiss: pip install faiss-cpu (or faiss-gpu)") from err
    return faiss


def top_inner_products(
    queries: torch.Tensor | np.ndarray,
    base: torch.Tensor | np.ndarray,
    k: int,
    *,
    method: str = "exact",
    nprobe: int = 32,
    chunk_size: int = 4096,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``(scores, indices)``, each (len(queries), k), the ``k`` rows of ``base`` with the largest
    inner product with each query, best first (``k`` clipped to ``len(base)``)."""
    if method not in METHODS:
        raise ConfigError(f"unknown retrieval method {method!r}; choose one of {', '.join(METHODS)}")
    k = min(k, len(base))
    if method == "exact":
        q, b = torch.as_tensor(queries), torch.as_tensor(base)
        scores = np.empty((len(q), k), dtype=np.float32)
        idx = np.empty((len(q), k), dtype=np.int64)
        for rows in row_chunks(len(q), len(b), chunk_size):
            top = (q[rows] @ b.T).topk(k, dim=1)
            scores[rows], idx[rows] = top.values.cpu().numpy(), top.indices.cpu().numpy()
        return scores, idx
    faiss = _faiss()
    xb = np.ascontiguousarray(torch.as_tensor(base).cpu().numpy(), dtype=np.float32)
    xq = np.ascontiguousarray(torch.as_tensor(queries).cpu().numpy(), dtype=np.float32)
    d = xb.shape[1]
    nlist = max(1, min(int(4 * math.sqrt(len(xb))), len(xb) // 39))
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(seed)
    sample = xb if len(xb) <= 256 * nlist else xb[rng.choice(len(xb), 256 * nlist, replace=False)]
    index.cp.seed = seed
    index.train(sample)
    index.add(xb)
    index.nprobe = min(nprobe, nlist)
    scores, idx = index.search(xq, k)
    # a query whose probed cells hold fewer than k rows gets -1s: fill them by exact search
    short = np.flatnonzero((idx < 0).any(axis=1))
    if len(short):
        s2, i2 = top_inner_products(xq[short], xb, k, method="exact", chunk_size=chunk_size)
        scores[short], idx[short] = s2, i2
    return scores, idx.astype(np.int64)
