"""Explanation data for the app: records first, charts second (the app draws these tables)."""

from mimea_core.explain.entities import EntityCard, entity_card, short_name
from mimea_core.explain.modalities import (
    entity_weights,
    modality_accuracy,
    pair_modalities,
    weight_records,
    weight_summary,
    whatif_ranking,
    whatif_weights,
)
from mimea_core.explain.projection import sample_entities, space_matrices, umap_projection
from mimea_core.explain.queue import ORDERINGS, filter_queue, next_undecided, order_queue, review_queue
from mimea_core.explain.retrain import compare_runs, untouched_split
from mimea_core.explain.transport import TransportBlock, block_targets, transport_block

__all__ = [
    "ORDERINGS",
    "EntityCard",
    "TransportBlock",
    "block_targets",
    "compare_runs",
    "entity_card",
    "entity_weights",
    "filter_queue",
    "modality_accuracy",
    "next_undecided",
    "order_queue",
    "pair_modalities",
    "review_queue",
    "sample_entities",
    "short_name",
    "space_matrices",
    "transport_block",
    "umap_projection",
    "untouched_split",
    "weight_records",
    "weight_summary",
    "whatif_ranking",
    "whatif_weights",
]
