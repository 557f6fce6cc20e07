"""Ranks of gold targets and the metrics derived from them (Hits@k, MRR).

A query may have several gold candidates (one-to-many links: a KG2 entity linked from two KG1
entities is, seen from KG2, a query with two gold sources). Its rank is the *filtered* rank of its
best-scoring gold candidate, counted pessimistically for ties:

.. math::

    \\mathrm{rank}(q) = 1 + |\\{c \\notin G(q) : s(q, c) \\ge \\max_{g \\in G(q)} s(q, g)\\}|

so other gold candidates never count against the query, and a non-gold candidate with exactly the
same score as the gold one does (a constant embedding gets rank n, not 1). NaN scores count as
``-inf``, so NaN embeddings get the worst ranks rather than perfect ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

HITS_AT = (1, 10)


@dataclass(frozen=True)
class GoldIndex:
    """Gold pairs in local positions: ``query[i]`` (into the query rows) ↔ ``cand[i]`` (into the candidates).

    Sorted by query so that a chunk of queries finds its pairs with ``searchsorted``.
    """

    query: np.ndarray
    cand: np.ndarray

    @classmethod
    def build(cls, pairs: np.ndarray, query_ids: np.ndarray, cand_ids: np.ndarray) -> GoldIndex:
        """Map global ``(query entity, candidate entity)`` pairs to positions in the two id arrays.

        Every query entity and every gold candidate must be present in ``query_ids``/``cand_ids``.
        """
        pairs = np.unique(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=0)
        q = _positions(query_ids, pairs[:, 0], "query")
        c = _positions(cand_ids, pairs[:, 1], "candidate")
        order = np.lexsort((c, q))
        return cls(query=q[order], cand=c[order])

    def chunk(self, rows: slice) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = np.searchsorted(self.query, [rows.start, rows.stop])
        return self.query[lo:hi] - rows.start, self.cand[lo:hi]

    def contains(self, query: np.ndarray, cand: np.ndarray) -> np.ndarray:
        """Whether each ``(query[i], cand[i])`` is a gold pair (bool array)."""
        query = np.asarray(query, dtype=np.int64)
        cand = np.asarray(cand, dtype=np.int64)
        width = int(max(self.cand.max(initial=0), cand.max(initial=0))) + 1
        return np.isin(query * width + cand, self.query * width + self.cand)


def _positions(ids: np.ndarray, values: np.ndarray, what: str) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    pos = np.searchsorted(ids, values, sorter=order)
    pos = np.minimum(pos, len(ids) - 1)
    found = order[pos]
    if len(ids) == 0 or not (ids[found] == values).all():
        missing = values[ids[found] != values] if len(ids) else values
        raise ValueError(
            f"{len(missing)} gold {what} entities are not in the {what} set, e.g. {missing[:3].tolist()}"
        )
    return found


def block_ranks(scores: torch.Tensor, gold_rows: np.ndarray, gold_cols: np.ndarray) -> np.ndarray:
    """Filtered pessimistic ranks (see module docstring) for one block of queries.

    Args:
        scores: (r, n) scores of r queries against all n candidates.
        gold_rows, gold_cols: gold pairs of this block (row in ``0..r-1``, column in ``0..n-1``);
            every row must have at least one gold pair.
    """
    r = scores.shape[0]
    if torch.isnan(scores).any():  # a diverged model must not look perfect: NaN ranks last
        scores = torch.nan_to_num(scores, nan=float("-inf"))
    gr = torch.as_tensor(gold_rows, device=scores.device)
    gc = torch.as_tensor(gold_cols, device=scores.device)
    gold_scores = scores[gr, gc]
    best = torch.full((r,), float("-inf"), dtype=scores.dtype, device=scores.device)
    best = best.scatter_reduce(0, gr, gold_scores, reduce="amax")
    at_least = (scores >= best[:, None]).sum(dim=1)
    gold_at_least = torch.zeros(r, dtype=at_least.dtype, device=scores.device)
    gold_at_least.index_add_(0, gr, (gold_scores >= best[gr]).to(at_least.dtype))
    return (1 + at_least - gold_at_least).cpu().numpy()


def metrics_from_ranks(ranks: np.ndarray) -> dict[str, float]:
    """``{"hits@1", "hits@10", "mrr"}`` from 1-based ranks (NaN for no queries)."""
    ranks = np.asarray(ranks, dtype=np.float64)
    if len(ranks) == 0:
        return {**{f"hits@{k}": float("nan") for k in HITS_AT}, "mrr": float("nan")}
    out = {f"hits@{k}": float((ranks <= k).mean()) for k in HITS_AT}
    out["mrr"] = float((1.0 / ranks).mean())
    return out
