"""Decoding of the test similarity matrix at inference: CSLS (the default) or Sinkhorn.

Nearest-neighbour ranking treats every query alone; alignment between two clean KGs is nearly
one-to-one, so a target that is every query's favourite (a hub) is mostly wrong for all but one.
CSLS corrects hubs with local neighbourhood means. **Sinkhorn** decoding corrects them globally:
the similarity ``S`` (cosine, queries x candidates) becomes the entropic transport plan with
uniform marginals,

.. math::

    \\log P = S / \\varepsilon + u_i + v_j, \\quad P 1 = 1/n, \\; P^\\top 1 = 1/m,

computed by ``iters`` alternating log-sum-exp normalisations of rows and columns; queries rank
candidates by ``log P`` (the row term ``u_i`` does not change a row's order, so the ranking is
``S / ε + v_j``: each candidate's score is lowered by how much the other queries want it). The
matrix is dense (n x m float32), so it is used only up to a size bound; beyond it CSLS stays.

Used by :func:`mimea_core.evaluation.protocols.evaluate_embeddings` for the standard protocol
(``decoding="sinkhorn"``: the headline is then the Sinkhorn ranking; CSLS stays in ``detail``).
"""

from __future__ import annotations

import torch

from mimea_core.config import DECODINGS

__all__ = ["DECODINGS", "sinkhorn_log_plan"]


def sinkhorn_log_plan(
    S: torch.Tensor, reg: float = 0.02, iters: int = 10, *, inplace: bool = False, chunk_rows: int = 2048
) -> torch.Tensor:
    """``log P`` of the entropic plan of similarity ``S`` (n, m) with uniform marginals (see above).

    ``reg`` > 0 is the entropic regularisation in similarity units; ``iters`` >= 1 alternating
    normalisations, columns last. ``inplace`` overwrites ``S`` (no second n x m buffer); the
    log-sum-exps run in blocks of ``chunk_rows`` rows, so temporaries stay at chunk x m.
    NaN scores become -2 / reg (below any cosine), so a broken row ranks nothing first by luck.
    """
    if not reg > 0:
        raise ValueError(f"reg must be > 0, got {reg}")
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    L = S if inplace else S.clone()
    torch.nan_to_num_(L, nan=-2.0).div_(reg)
    n = L.shape[0]
    blocks = [slice(i, min(i + chunk_rows, n)) for i in range(0, n, chunk_rows)]
    for _ in range(iters):
        for rows in blocks:
            L[rows].sub_(torch.logsumexp(L[rows], dim=1, keepdim=True))
        col_max = torch.stack([L[rows].amax(dim=0) for rows in blocks]).amax(dim=0)
        col_sum = torch.zeros_like(col_max)
        for rows in blocks:
            col_sum.add_((L[rows] - col_max).exp_().sum(dim=0))
        col_lse = col_max + col_sum.log()
        for rows in blocks:
            L[rows].sub_(col_lse)
    return L
