"""Counts describing a loaded pair (for ``python -m mimea_core info`` and the app's data page)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from mimea_core.data.types import KnowledgeGraph, MMKGPair


def modality_coverage(kg: KnowledgeGraph) -> dict[str, float]:
    """Share of entities for which each modality is present.

    graph/relation: the entity is in at least one relation triple; attribute: in an attribute
    triple; name: has a readable name (from a names file or its URI, not just an opaque id);
    visual: has a given feature vector; images: has an image id/URL in an image index.
    """
    n = max(kg.num_entities, 1)
    in_triples = np.zeros(kg.num_entities, dtype=bool)
    if len(kg.triples):
        in_triples[kg.triples[:, 0]] = True
        in_triples[kg.triples[:, 2]] = True
    with_attr = np.zeros(kg.num_entities, dtype=bool)
    if len(kg.attr_triples):
        with_attr[kg.attr_triples[:, 0]] = True
    named = sum(1 for e, name in zip(kg.entities, kg.names, strict=True) if name and name != e)
    visual = kg.features.get("visual")
    return {
        "graph": float(in_triples.sum() / n),
        "relation": float(in_triples.sum() / n),
        "attribute": float(with_attr.sum() / n),
        "name": named / n,
        "visual": float(visual.mask.sum() / n) if visual is not None else 0.0,
        "images": len(kg.images) / n,
    }


def kg_summary(kg: KnowledgeGraph) -> dict:
    return {
        "name": kg.name,
        "entities": kg.num_entities,
        "relations": kg.num_relations,
        "triples": int(len(kg.triples)),
        "dropped_duplicate_triples": kg.dropped_duplicate_triples,
        "attributes": kg.num_attributes,
        "attribute_triples": int(len(kg.attr_triples)),
        "dropped_duplicate_attributes": kg.dropped_duplicate_attributes,
        "features": {
            m: {"dim": f.dim, "coverage": f.coverage, "source": f.source} for m, f in kg.features.items()
        },
        "coverage": modality_coverage(kg),
    }


def summarize(pair: MMKGPair) -> dict:
    """A JSON-ready description of ``pair``."""
    targets = Counter(pair.links[:, 1].tolist()) if pair.num_links else Counter()
    sources = Counter(pair.links[:, 0].tolist()) if pair.num_links else Counter()
    return {
        "name": pair.name,
        "source": pair.source,
        "kg1": kg_summary(pair.kg1),
        "kg2": kg_summary(pair.kg2),
        "links": {
            "total": pair.num_links,
            "kg1_entities": len(sources),
            "kg2_entities": len(targets),
            "one_to_many_kg2": sum(1 for c in targets.values() if c > 1),
            "one_to_many_kg1": sum(1 for c in sources.values() if c > 1),
        },
        "warnings": list(pair.warnings),
    }
