"""A loading plan for one pair (what to read, and how), and assembling the pair from two KGs.

Every reader turns a PATH into a :class:`PairPlan`: the input files (hashed for the cache key)
and a ``build(strict)`` function doing the parsing. :func:`assemble` is the common last step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mimea_core.data.builder import KGBuilder
from mimea_core.data.links import RawLinks, resolve_links
from mimea_core.data.types import KnowledgeGraph, MMKGPair


@dataclass
class FeatureSpec:
    """A feature file for one KG: ``.npy`` (+ optional id list) or a ``{id: vector}`` pickle."""

    path: Path
    ids: Path | None = None
    id_map: dict[int, int] | None = None  # integer pickle keys -> local entity index (MMEA global ids)


@dataclass
class PairPlan:
    name: str
    format: str
    files: list[Path]
    build: Callable[[bool], MMKGPair]
    features: dict[str, tuple[FeatureSpec | None, FeatureSpec | None]] = field(default_factory=dict)


def kg_warnings(kg: KnowledgeGraph, builder: KGBuilder, source: str) -> list[str]:
    """Warnings about what was tolerated in one KG, each naming the file it concerns."""
    triples_from = builder.sources.get("triples", source)
    attributes_from = builder.sources.get("attributes", source)
    warnings = []
    if kg.dropped_duplicate_triples:
        warnings.append(
            f"{triples_from}: {kg.dropped_duplicate_triples:,} duplicate relation triples of {kg.name} dropped"
        )
    if kg.dropped_duplicate_attributes:
        warnings.append(
            f"{attributes_from}: {kg.dropped_duplicate_attributes:,} duplicate attribute triples of {kg.name} dropped"
        )
    if builder.partial_values:
        warnings.append(
            f"{attributes_from}: {builder.partial_values:,} {kg.name} attribute values are dates with unknown parts "
            "(e.g. 1987-10-##); only their known part is used"
        )
    return warnings


def assemble(
    name: str,
    builder1: KGBuilder,
    builder2: KGBuilder,
    raw_links: RawLinks,
    strict: bool,
    sources: tuple[str, str] = ("", ""),
) -> MMKGPair:
    """Build both KGs, resolve the links, collect the warnings."""
    kg1, kg2 = builder1.build(), builder2.build()
    warnings = kg_warnings(kg1, builder1, sources[0] or kg1.name) + kg_warnings(
        kg2, builder2, sources[1] or kg2.name
    )
    links, link_warnings = resolve_links(
        raw_links, builder1.entity_ids, builder2.entity_ids, kg1.name, kg2.name, strict=strict
    )
    return MMKGPair(name=name, kg1=kg1, kg2=kg2, links=links, warnings=warnings + link_warnings)
