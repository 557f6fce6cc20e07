"""Explanation data for the app: records first, charts second (the app draws these tables)."""

from mimea_core.explain.entities import EntityCard, entity_card, short_name
from mimea_core.explain.modalities import entity_weights, pair_modalities, weight_records, weight_summary
from mimea_core.explain.projection import sample_entities, space_matrices, umap_projection
from mimea_core.explain.transport import TransportBlock, block_targets, transport_block
from mimea_core.explain.whatif import whatif, whatif_ranking, whatif_weights

__all__ = [
    "EntityCard",
    "TransportBlock",
    "block_targets",
    "entity_card",
    "entity_weights",
    "pair_modalities",
    "sample_entities",
    "short_name",
    "space_matrices",
    "transport_block",
    "umap_projection",
    "weight_records",
    "weight_summary",
    "whatif",
    "whatif_ranking",
    "whatif_weights",
]
