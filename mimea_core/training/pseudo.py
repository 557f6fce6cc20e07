"""Iterative pseudo-seeding: confident mutual nearest neighbours become extra training pairs.

Among KG1 entities ``S`` and KG2 entities ``T`` not used as seeds, a pair ``(i, j)`` is kept when
``j = argmax_t cos(e_i, e_t)``, ``i = argmax_s cos(e_s, e_j)`` and ``cos(e_i, e_j) >= threshold``.
The similarity matrix is processed in row blocks of at most ``chunk`` rows and ``max_elements``
scores (default ``MAX_BLOCK_ELEMENTS``, 128 MiB of float32), so memory stays bounded at any |S|, |T|
(only the per-row and per-column best scores, O(|S| + |T|), are kept), on whichever device the
embeddings are.
"""

from __future__ import annotations

import numpy as np
import torch

from mimea_core.evaluation.similarity import MAX_BLOCK_ELEMENTS, row_chunks


def mutual_nearest_pairs(
    e1: torch.Tensor,
    e2: torch.Tensor,
    cand1: np.ndarray,
    cand2: np.ndarray,
    threshold: float,
    chunk: int = 4096,
    max_elements: int = MAX_BLOCK_ELEMENTS,
) -> np.ndarray:
    """(k, 2) local-id pairs from candidate KG1 rows ``cand1`` and KG2 rows ``cand2`` of ``e1, e2``.

    ``e1``/``e2`` are L2-normalised embeddings of all KG1/KG2 entities.
    """
    if len(cand1) == 0 or len(cand2) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    dev = e1.device
    c1 = torch.as_tensor(cand1, device=dev)
    c2 = torch.as_tensor(cand2, device=dev)
    x2 = e2.index_select(0, c2)
    row_best = torch.empty(len(cand1), dtype=torch.long, device=dev)
    row_sim = torch.empty(len(cand1), device=dev)
    col_best = torch.full((len(cand2),), -1, dtype=torch.long, device=dev)
    col_sim = torch.full((len(cand2),), float("-inf"), device=dev)
    for rows in row_chunks(len(cand1), len(cand2), chunk, max_elements):
        start = rows.start
        sims = e1.index_select(0, c1[rows]) @ x2.T
        v, j = sims.max(1)
        row_best[start : start + len(v)], row_sim[start : start + len(v)] = j, v
        cv, ci = sims.max(0)
        better = cv > col_sim
        col_sim = torch.where(better, cv, col_sim)
        col_best = torch.where(better, ci + start, col_best)
    rows = torch.arange(len(cand1), device=dev)
    keep = (col_best.index_select(0, row_best) == rows) & (row_sim >= threshold)
    pairs = torch.stack([c1[keep], c2[row_best[keep]]], 1)
    return pairs.cpu().numpy().astype(np.int64)
