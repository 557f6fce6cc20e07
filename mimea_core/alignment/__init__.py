"""Optimal transport between embedding sets, and one-to-one decoding of a similarity matrix.

- :func:`sinkhorn_plan` / :func:`ot_loss`: differentiable entropic OT (torch in, torch out), used by
  the model's OT modal-alignment term.
- :func:`transport_plan`: the cross-KG plan between two blocks of entities (numpy), drawn by the app.
- :func:`one_to_one_matching`: a global one-to-one decoding (Hungarian when small, Sinkhorn + greedy
  otherwise), used by evaluation and candidate generation.
"""

from mimea_core.alignment.matching import one_to_one_matching, sparse_one_to_one
from mimea_core.alignment.sinkhorn import cosine_cost, ot_loss, sinkhorn_plan, transport_plan

__all__ = [
    "cosine_cost",
    "one_to_one_matching",
    "ot_loss",
    "sparse_one_to_one",
    "sinkhorn_plan",
    "transport_plan",
]
