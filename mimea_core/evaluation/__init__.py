"""Honest evaluation: similarity (cosine, CSLS), ranks, Hits@k / MRR, standard and open protocols.

Entry points: :func:`evaluate` (all test metrics as :class:`AlignmentMetrics`),
:func:`evaluate_embeddings` (the same as a plain dict, DESIGN.md section 3 shape) and
:func:`validation_mrr` (cheap per-epoch model selection on the validation pairs).
"""

from mimea_core.evaluation.api import evaluate
from mimea_core.evaluation.modalities import modality_accuracy
from mimea_core.evaluation.protocols import (
    csls_matrix,
    evaluate_embeddings,
    one_to_one_hits,
    rank_queries,
    validation_mrr,
)
from mimea_core.evaluation.ranking import GoldIndex, block_ranks, metrics_from_ranks
from mimea_core.evaluation.retrain import SeededChange, compare_runs, seeded_change, untouched_split
from mimea_core.evaluation.similarity import row_neighbourhood_mean
from mimea_core.metrics import AlignmentMetrics

__all__ = [
    "AlignmentMetrics",
    "GoldIndex",
    "block_ranks",
    "compare_runs",
    "SeededChange",
    "seeded_change",
    "csls_matrix",
    "evaluate",
    "evaluate_embeddings",
    "metrics_from_ranks",
    "modality_accuracy",
    "one_to_one_hits",
    "rank_queries",
    "row_neighbourhood_mean",
    "untouched_split",
    "validation_mrr",
]
