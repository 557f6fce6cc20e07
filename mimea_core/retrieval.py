"""Top-k maximum-inner-product search: exact (torch, chunked) or approximate (faiss, optional).

``faiss`` is an optional extra (``pip install faiss-cpu``, or the GPU build where present); it is
imported only when an approximate method is asked for, and a missing package is a clear
:class:`~mimea_core.errors.ConfigError`. Methods:

- ``"exact"``: blocks of ``queries @ base.T`` with ``topk``; memory bounded by
  :data:`~mimea_core.evaluation.similarity.MAX_BLOCK_ELEMENTS` scores per block.
- ``"faiss"``: an inverted-file index (``IndexIVFFlat``, inner product) with ``nlist = 4 sqrt(n)``
  k-means cells (trained on at most 64 points per cell, seeded), searching ``nprobe`` cells per query:
  memory O(n·d) (one float32 copy of the base), time ~ O(n·d·nprobe/nlist) per query instead of O(n·d).
- ``"faiss-sq8"``: the same cells, each row stored as 8-bit codes of its residual to its cell's
  centroid (``IndexIVFScalarQuantizer``, ``QT_8bit``): a quarter of the flat index's memory; it
  finds ``2k`` rows by their codes, which are re-scored exactly from the base rows, the best ``k`` kept.

Either way the scores returned are exact inner products of the rows found; only *which* rows are
found is approximate (``recall@k`` against exact search: ``benchmarks/faiss_recall.py``).

The base (and the queries) may be :class:`LazyRows`: rows made block by block on demand, so that an
index over a million rows holds its own copy (or codes) and never a second full copy of the rows.
CSLS ranking is an inner product of augmented vectors (see ``mimea_core.candidates._augment``), so
the same search serves cosine and CSLS candidates.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from mimea_core.errors import ConfigError
from mimea_core.evaluation.similarity import row_chunks

METHODS = ("exact", "faiss", "faiss-sq8")
CHOICES = ("auto", *METHODS)  # "auto": see resolve_method
AUTO_EXACT_MAX_PAIRS = 50_000 * 50_000  # "auto" on a CPU: exact up to here (41 s on 2 cores at 256-d), faiss above
TRAIN_POINTS_PER_CELL = 64  # k-means sample per IVF cell (faiss wants >= 39; more costs time, not recall)
BLOCK_ROWS = 16384  # rows made, added or searched at once (lazy rows): ~17 MB at 258 dimensions
REFINE_FACTOR = 2  # faiss-sq8 finds this many times k rows by their codes, re-scores them, keeps k
SIMD_WIDTH = 16  # faiss's SIMD distance kernels need d % 8 == 0 (8-bit codes: 7x slower otherwise)
REFINE_BLOCK = 1024  # queries whose found rows are re-made at once (1024 x 20 x 258 floats: 21 MB)


def _faiss():
    try:
        import faiss
    except ImportError as err:
        raise ConfigError("approximate retrieval needs faiss: pip install faiss-cpu (or faiss-gpu)") from err
    return faiss


def resolve_method(method: str, n_queries: int, n_base: int, device: str | torch.device = "cpu") -> str:
    """The search ``method`` stands for: itself, or for ``"auto"`` exact search on a GPU or up to
    :data:`AUTO_EXACT_MAX_PAIRS` query-base pairs, else ``"faiss"`` when faiss is installed."""
    if method not in CHOICES:
        raise ConfigError(f"unknown retrieval method {method!r}; choose one of {', '.join(CHOICES)}")
    if method != "auto":
        return method
    if torch.device(device).type == "cuda" or n_queries * n_base <= AUTO_EXACT_MAX_PAIRS:
        return "exact"
    try:
        import faiss  # noqa: F401
    except ImportError:
        return "exact"
    return "faiss"


@dataclass(frozen=True)
class LazyRows:
    """``n`` float32 rows of width ``dim``, made on demand: ``make(positions)`` returns those rows
    (C-contiguous, ``(len(positions), dim)``). An index is built from, and searched with, blocks
    of them, so a derived space (unit rows, CSLS columns) never exists all at once."""

    n: int
    dim: int
    make: Callable[[np.ndarray], np.ndarray]

    def __len__(self) -> int:
        return self.n

    def take(self, positions: np.ndarray) -> LazyRows:
        """The rows at ``positions`` (in that order), still made on demand."""
        positions = np.asarray(positions, dtype=np.int64)
        return LazyRows(len(positions), self.dim, lambda at: self.make(positions[at]))

    def blocks(self, size: int = BLOCK_ROWS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(positions, rows)`` for consecutive blocks of at most ``size`` rows."""
        for start in range(0, self.n, size):
            at = np.arange(start, min(start + size, self.n))
            yield at, self.make(at)

    def all(self) -> np.ndarray:
        return self.make(np.arange(self.n))


def as_rows(x: torch.Tensor | np.ndarray | LazyRows) -> LazyRows:
    """``x`` as :class:`LazyRows` (an array or tensor is viewed, not copied; rows are cast per block)."""
    if isinstance(x, LazyRows):
        return x
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"rows must be 2-d, got shape {a.shape}")
    return LazyRows(len(a), a.shape[1], lambda at: np.ascontiguousarray(a[at], dtype=np.float32))


class InnerProductIndex:
    """A ``base`` built once for many top-k inner-product searches (``method`` as in :data:`METHODS`).

    ``"faiss"``/``"faiss-sq8"``: ``nlist = 4 sqrt(n)`` cells, k-means trained (seeded) on at most
    :data:`TRAIN_POINTS_PER_CELL` points per cell; ``nprobe`` cells are searched per query; rows
    are added in blocks. ``cells``: each row's cell in an index over the same entities in another
    space (:attr:`cells` of it; row ``i`` of both is one entity, e.g. CSLS-augmented rows of a
    cosine index): those cells are kept, with centroids the means of this base's rows in each,
    instead of training k-means again. ``base`` may be :class:`LazyRows`; with faiss it is then
    never materialised (``"faiss-sq8"`` re-makes the rows it found, to score them exactly).
    """

    def __init__(self, base: torch.Tensor | np.ndarray | LazyRows, *, method: str = "exact", nprobe: int = 32,
                 chunk_size: int = 4096, seed: int = 0, cells: np.ndarray | None = None) -> None:  # fmt: skip
        if method not in METHODS:
            raise ConfigError(f"unknown retrieval method {method!r}; choose one of {', '.join(METHODS)}")
        self.method, self.chunk_size = method, chunk_size
        self._n = len(base)
        self._base: torch.Tensor | None = None  # exact: the rows, on the device they came on
        self.rows: LazyRows | None = None  # faiss: where rows are (re-)made from
        self._index = None
        self.cells: np.ndarray | None = None  # faiss: each base row's cell
        if method == "exact":
            self._base = torch.from_numpy(base.all()) if isinstance(base, LazyRows) else torch.as_tensor(base)
        elif self._n:
            self.rows = as_rows(base)
            self._index = _ivf_index(_padded(self.rows), nprobe=nprobe, seed=seed, cells=cells,
                                     quantized=method == "faiss-sq8")  # fmt: skip
            self.cells = _cell_of_rows(self._index, len(self.rows))

    def __len__(self) -> int:
        return self._n

    def search(self, queries: torch.Tensor | np.ndarray | LazyRows, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, indices)``, each (len(queries), k): the ``k`` base rows with the largest inner
        product with each query, best first (``k`` clipped to ``len(base)``)."""
        k = min(k, self._n)
        if self._base is not None and not isinstance(queries, LazyRows):
            return self._exact(torch.as_tensor(queries), k)
        q = as_rows(queries)
        scores = np.empty((len(q), k), dtype=np.float32)
        idx = np.empty((len(q), k), dtype=np.int64)
        if self._n == 0:
            return scores, idx
        for at, block in q.blocks():
            found = (
                self._exact(torch.from_numpy(block).to(self._base.device), k)
                if self._index is None
                else self._approximate(block, k)
            )
            scores[at], idx[at] = found
        return scores, idx

    def _approximate(self, xq: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        lossy = self.method == "faiss-sq8"
        wanted = min(REFINE_FACTOR * k, self._n) if lossy else k
        xq_padded = _pad_columns(xq, self._index.d)
        scores, idx = self._index.search(xq_padded, wanted)
        # a query whose probed cells hold fewer rows than wanted gets -1s: search those in every cell
        short = np.flatnonzero((idx < 0).any(axis=1))
        if len(short):
            every = _faiss().SearchParametersIVF(nprobe=self._index.nlist)
            scores[short], idx[short] = self._index.search(xq_padded[short], wanted, params=every)
        idx = idx.astype(np.int64)
        if lossy:  # scores from codes are approximate: re-score the rows found exactly, keep the best k
            for at in range(0, len(xq), REFINE_BLOCK):
                rows = slice(at, at + REFINE_BLOCK)
                found = self.rows.make(idx[rows].reshape(-1)).reshape(len(idx[rows]), wanted, -1)
                scores[rows] = np.einsum("qd,qkd->qk", xq[rows], found)
            order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            scores, idx = np.take_along_axis(scores, order, 1), np.take_along_axis(idx, order, 1)
        return scores, idx

    def _exact(self, q: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        b = self._base.to(q.device, q.dtype)
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


def _padded(rows: LazyRows) -> LazyRows:
    """``rows`` with zero columns up to a multiple of :data:`SIMD_WIDTH` (inner products unchanged)."""
    width = -(-rows.dim // SIMD_WIDTH) * SIMD_WIDTH
    return rows if width == rows.dim else LazyRows(len(rows), width, lambda at: _pad_columns(rows.make(at), width))


def _pad_columns(x: np.ndarray, width: int) -> np.ndarray:
    if x.shape[1] == width:
        return x
    out = np.zeros((len(x), width), dtype=np.float32)
    out[:, : x.shape[1]] = x
    return out


def _ivf_index(rows: LazyRows, *, nprobe: int, seed: int, cells: np.ndarray | None, quantized: bool):
    """An inverted-file index (inner product) holding ``rows``, added block by block: flat rows, or
    8-bit codes of their residuals (``quantized``); cells from a seeded k-means, or ``cells`` given."""
    faiss = _faiss()
    d, n = rows.dim, len(rows)
    quantizer = faiss.IndexFlatIP(d)
    if cells is not None:
        if len(cells) != n:
            raise ValueError(f"cells gives {len(cells)} rows a cell, this base has {n}")
        nlist = int(cells.max()) + 1
        sums = torch.zeros(nlist, d)
        for at, block in rows.blocks():
            sums.index_add_(0, torch.from_numpy(cells[at]), torch.from_numpy(block))
        counts = torch.bincount(torch.from_numpy(cells), minlength=nlist).clamp(min=1)
        quantizer.add((sums / counts[:, None]).numpy())  # a trained quantizer: faiss skips k-means
    else:
        nlist = max(1, min(int(4 * math.sqrt(n)), n // 39))
    if quantized:
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)  # fmt: skip
    else:
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = seed
    if not index.is_trained:
        cap = TRAIN_POINTS_PER_CELL * nlist
        sample = np.sort(np.random.default_rng(seed).choice(n, cap, replace=False)) if n > cap else np.arange(n)
        index.train(rows.make(sample))
    for _, block in rows.blocks():
        index.add(block)
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
