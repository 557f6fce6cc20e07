"""Label-free anchors: pairs whose attribute values agree across the graphs, mined before training.

The value bag of :func:`mimea_core.model.values.value_bag` (idf-weighted tokens of normalised
numbers and dates shared by both KGs) is compared *exactly* (sparse cosine, no projection) between
the entities that are not seeds. A pair ``(i, j)`` becomes an anchor when

- it is mutual: ``j`` is ``i``'s most similar target and ``i`` is ``j``'s most similar source;
- it shares at least ``min_shared`` tokens (one agreeing value gives two or three tokens: 3 and 4
  significant digits, and the year), so a lone common year or round number is not enough;
- its margin — the smaller of the row's and the column's gap between the best and the second best
  cosine — is above ``min_margin``: a value shared with many entities gives no margin.

Why both filters: the cosine alone is *anti*-correlated with precision here (an entity with a single
token has cosine 1 with every holder of it). On the development split (FB15K-DB15K, split seed 100,
5% seeds) the mutual pairs were 72% correct, and those with >= 4 shared tokens and margin > .05
94% (2001 pairs, three times the seeds; docs/experiments-structure.md).

Anchors join the training pairs from the first epoch (:func:`mimea_core.training.loop.fit`); their
precision is measured on the **validation** links only (test links are never read). Memory is
O(chunk x |T|): the similarity is computed in sparse row blocks.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from mimea_core.data.types import MMKGPair
from mimea_core.model.values import value_bag
from mimea_core.training.bootstrap import valid_precision

log = logging.getLogger(__name__)


@dataclass
class AnchorResult:
    """The anchors and what is known of them without test links."""

    pairs: np.ndarray  # (k, 2) local-id pairs
    shared: np.ndarray  # (k,) shared value tokens of each pair
    margin: np.ndarray  # (k,) min(row, column) best - second best cosine
    mutual: int  # mutual pairs before the filters
    valid_covered: int  # anchors whose KG1 entity is a validation source
    valid_precision: float  # share of those that match their validation link (NaN when none)
    seconds: float

    def summary(self) -> dict[str, float | int]:
        return {
            "anchors": int(len(self.pairs)), "mutual": self.mutual, "valid_covered": self.valid_covered,
            "valid_precision": self.valid_precision, "seconds": round(self.seconds, 2),
        }  # fmt: skip


def _top2(block: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(argmax, best, second best) of a dense block along ``axis`` (second is -inf for size 1)."""
    best_idx = block.argmax(axis=axis)
    best = np.take_along_axis(block, np.expand_dims(best_idx, axis), axis).squeeze(axis)
    if block.shape[axis] < 2:
        return best_idx, best, np.full_like(best, -np.inf)
    part = -np.partition(-block, 1, axis=axis)
    second = np.take(part, 1, axis=axis)
    return best_idx, best, second


def value_anchors(
    pair: MMKGPair,
    exclude1: np.ndarray,
    exclude2: np.ndarray,
    *,
    min_shared: int = 4,
    min_margin: float = 0.05,
    valid: np.ndarray | None = None,
    chunk_size: int = 2048,
) -> AnchorResult:
    """Anchors among entities not in ``exclude1`` (KG1) / ``exclude2`` (KG2); see the module docstring."""
    t0 = time.perf_counter()
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    rows, cols, vals, k = value_bag(pair)
    empty = np.zeros((0, 2), np.int64)
    if k == 0:
        return AnchorResult(empty, np.zeros(0, np.int64), np.zeros(0), 0, 0, float("nan"), 0.0)
    X = sp.csr_matrix((vals, (rows, cols)), shape=(n1 + n2, k), dtype=np.float32)
    present = np.diff(X.indptr) > 0
    c1 = np.setdiff1d(np.flatnonzero(present[:n1]), exclude1)
    c2 = np.setdiff1d(np.flatnonzero(present[n1:]), exclude2)
    if len(c1) == 0 or len(c2) == 0:
        return AnchorResult(empty, np.zeros(0, np.int64), np.zeros(0), 0, 0, float("nan"), 0.0)
    A, B = X[c1], X[n1 + c2]
    BT = B.T.tocsc()
    row_best = np.empty(len(c1), np.int64)
    row_gap = np.empty(len(c1), np.float32)
    col_best = np.full(len(c2), -1, np.int64)
    col_top = np.full((2, len(c2)), -np.inf, np.float32)  # running best and second best per column
    for start in range(0, len(c1), chunk_size):
        block = (A[start : start + chunk_size] @ BT).toarray()
        j, best, second = _top2(block, 1)
        row_best[start : start + len(block)] = j
        row_gap[start : start + len(block)] = best - second
        i, cbest, csecond = _top2(block, 0)
        merged = np.sort(np.concatenate([col_top, cbest[None], csecond[None]]), axis=0)[::-1][:2]
        col_best = np.where(cbest > col_top[0], i + start, col_best)
        col_top = np.ascontiguousarray(merged)
    mutual = col_best[row_best] == np.arange(len(c1))
    src = np.flatnonzero(mutual)
    tgt = row_best[src]
    margin = np.minimum(row_gap[src], col_top[0, tgt] - col_top[1, tgt])
    ones1, ones2 = A[src].copy(), B[tgt].copy()
    ones1.data[:] = 1.0
    ones2.data[:] = 1.0
    shared = np.asarray(ones1.multiply(ones2).sum(axis=1)).ravel().astype(np.int64)
    keep = (shared >= min_shared) & (margin > min_margin)
    pairs = np.stack([c1[src[keep]], c2[tgt[keep]]], 1).astype(np.int64)
    valid_arr = np.zeros((0, 2), np.int64) if valid is None else np.asarray(valid, np.int64).reshape(-1, 2)
    covered, precision = valid_precision(pairs, valid_arr)
    result = AnchorResult(
        pairs, shared[keep], margin[keep].astype(np.float64), int(mutual.sum()), covered, precision,
        time.perf_counter() - t0,
    )  # fmt: skip
    log.info(
        "value anchors: %d of %d mutual pairs (>= %d shared tokens, margin > %.2f); "
        "validation precision %.3f on %d; %.1f s",
        len(pairs), result.mutual, min_shared, min_margin, precision, covered, result.seconds,
    )  # fmt: skip
    return result
