"""Top-k maximum-inner-product search: exact (torch, chunked) or approximate (faiss, optional).

``faiss`` is an optional extra (``pip install faiss-cpu``, or the GPU build where present); it is
imported only when an approximate method is asked for, and a missing package is a clear
:class:`~mimea_core.errors.ConfigError`. Methods:

- ``"exact"``: blocks of ``queries @ base.T`` with ``topk``; memory bounded by
  :data:`~mimea_core.evaluation.similarity.MAX_BLOCK_ELEMENTS` scores per block.
- ``"faiss"``: an inverted-file index (``IndexIVFFlat``, inner product) with ``nlist = 4 sqrt(n)``
  k-means cells (trained on at most 64 points per cell, seeded), searching ``nprobe`` cells per query:
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


TRAIN_POINTS_PER_CELL = 64  # k-means sample per IVF cell (faiss wants >= 39; more costs time, not recall)


class InnerProductIndex:
    """A ``base`` built once for many top-k inner-product searches (``method`` as in :data:`METHODS`).

    ``"faiss"``: ``IndexIVFFlat`` (inner product) with ``nlist = 4 sqrt(n)`` cells, k-means trained
    (seeded) on at most :data:`TRAIN_POINTS_PER_CELL` points per cell; ``nprobe`` cells are searched
    per query. Returned scores are exact inner products of the rows found. ``cells``: each row's cell
    in an index over the same entities in another space (:attr:`cells` of it; row ``i`` of both is
    one entity, e.g. CSLS-augmented rows of a cosine index): those cells are kept, with centroids
    the means of this base's rows in each, instead of training k-means again.
    """

    def __init__(self, base: torch.Tensor | np.ndarray, *, method: str = "exact", nprobe: int = 32,
                 chunk_size: int = 4096, seed: int = 0, cells: np.ndarray | None = None) -> None:  # fmt: skip
        if method not in METHODS:
            raise ConfigError(f"unknown retrieval method {method!r}; choose one of {', '.join(METHODS)}")
        self.method, self.chunk_size = method, chunk_size
        self.base = torch.as_tensor(base)
        self._index = None
        self.cells: np.ndarray | None = None  # faiss: each base row's cell
        if method == "faiss" and len(self.base):
            xb = np.ascontiguousarray(self.base.cpu().numpy(), dtype=np.float32)
            self._index = _ivf_index(xb, nprobe=nprobe, seed=seed, cells=cells)
            self.cells = _cell_of_rows(self._index, len(xb))

    def __len__(self) -> int:
        return len(self.base)

    def search(self, queries: torch.Tensor | np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, indices)``, each (len(queries), k): the ``k`` base rows with the largest inner
        product with each query, best first (``k`` clipped to ``len(base)``)."""
        k = min(k, len(self.base))
        if self._index is None:
            return self._exact(torch.as_tensor(queries), k)
        xq = np.ascontiguousarray(torch.as_tensor(queries).cpu().numpy(), dtype=np.float32)
        scores, idx = self._index.search(xq, k)
        # a query whose probed cells hold fewer than k rows gets -1s: fill them by exact search
        short = np.flatnonzero((idx < 0).any(axis=1))
        if len(short):
            scores[short], idx[short] = self._exact(torch.from_numpy(xq[short]), k)
        return scores, idx.astype(np.int64)

    def _exact(self, q: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        b = self.base.to(q.device, q.dtype)
        scores = np.empty((len(q), k), dtype=np.float32)
        idx = np.empty((len(q), k), dtype=np.int64)
        for rows in row_chunks(len(q), len(b), self.chunk_size):
            top = (q[rows] @ b.T).topk(k, dim=1)
            scores[rows], idx[rows] = top.values.cpu().numpy(), top.indices.cpu().numpy()
        return scores, idx


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
    inner product with each query, best first (``k`` clipped to ``len(base)``): one search of a
    one-off :class:`InnerProductIndex`."""
    return InnerProductIndex(base, method=method, nprobe=nprobe, chunk_size=chunk_size, seed=seed).search(
        queries, k
    )


def recall_at_k(exact: np.ndarray, approx: np.ndarray) -> float:
    """Mean over rows of ``|approx row ∩ exact row| / k``: the share of the exact top-k found."""
    k = exact.shape[1]
    return (
        float(np.mean([len(set(a) & set(b)) / k for a, b in zip(exact, approx, strict=True)]))
        if len(exact)
        else 1.0
    )


def _ivf_index(xb: np.ndarray, *, nprobe: int, seed: int, cells: np.ndarray | None):
    """``IndexIVFFlat`` (inner product) holding ``xb``: cells from a seeded k-means, or ``cells`` given."""
    faiss = _faiss()
    d = xb.shape[1]
    if cells is not None:
        if len(cells) != len(xb):
            raise ValueError(f"cells gives {len(cells)} rows a cell, this base has {len(xb)}")
        nlist = int(cells.max()) + 1
        at = torch.from_numpy(cells)
        sums = torch.zeros(nlist, d).index_add_(0, at, torch.from_numpy(xb))
        quantizer = faiss.IndexFlatIP(d)
        quantizer.add((sums / torch.bincount(at, minlength=nlist).clamp(min=1)[:, None]).numpy())
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    else:
        nlist = max(1, min(int(4 * math.sqrt(len(xb))), len(xb) // 39))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, nlist, faiss.METRIC_INNER_PRODUCT)
        cap = TRAIN_POINTS_PER_CELL * nlist
        index.cp.seed = seed
        sample = (
            np.sort(np.random.default_rng(seed).choice(len(xb), cap, replace=False))
            if len(xb) > cap
            else None
        )
        index.train(xb if sample is None else xb[sample])
    index.add(xb)
    index.nprobe = min(nprobe, nlist)
    return index


def _cell_of_rows(index, n: int) -> np.ndarray:
    """The inverted list (cell) each of the ``n`` rows added to an ``IndexIVF`` went to."""
    import faiss

    invlists = index.invlists
    cells = np.empty(n, dtype=np.int64)
    for cell in range(index.nlist):
        size = invlists.list_size(cell)
        if size:
            cells[faiss.rev_swig_ptr(invlists.get_ids(cell), size)] = cell
    return cells
