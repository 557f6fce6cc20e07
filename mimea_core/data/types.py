"""The in-memory dataset: two multi-modal knowledge graphs and their gold links.

Entities of each KG are numbered ``0..n-1`` locally; every array below uses these local indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class ModalityFeatures:
    """A given feature matrix for one modality of one KG (e.g. visual features).

    ``matrix[i]`` is entity ``i``'s vector when ``mask[i]`` is True; rows with ``mask[i] == False``
    are zeros and must never be used as information (the model uses a learned missing token).
    """

    matrix: np.ndarray  # float32, (num_entities, dim)
    mask: np.ndarray  # bool, (num_entities,)
    source: str = ""  # file it came from, for messages

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def coverage(self) -> float:
        return float(self.mask.mean()) if len(self.mask) else 0.0


@dataclass
class KnowledgeGraph:
    """One knowledge graph.

    Attributes:
        name: short name, e.g. ``"FB15K"``.
        entities: entity identifiers (URI, /m/ id, ...); index = local entity id.
        names: human-readable name per entity (from a names file, or derived from the URI).
        relations: relation identifiers; index = relation id.
        triples: int64 array (n, 3) of unique ``(head, relation, tail)`` triples.
        attributes: attribute identifiers; index = attribute id.
        attr_triples: int64 array (m, 2) of ``(entity, attribute)``.
        attr_values: raw value strings, one per row of ``attr_triples``.
        attr_numeric: float64 (m,), the parsed numeric value (dates -> year with known parts),
            NaN where the value is not numeric.
        images: entity id -> image id or URL (from an image index), for display only.
        features: modality name (e.g. ``"visual"``) -> given features with a presence mask.
        dropped_duplicate_triples: how many exact duplicate relation triples were dropped.
        dropped_duplicate_attributes: how many exact duplicate attribute triples were dropped.
    """

    name: str
    entities: list[str]
    names: list[str]
    relations: list[str]
    triples: np.ndarray
    attributes: list[str] = field(default_factory=list)
    attr_triples: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    attr_values: list[str] = field(default_factory=list)
    attr_numeric: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float64))
    images: dict[int, str] = field(default_factory=dict)
    features: dict[str, ModalityFeatures] = field(default_factory=dict)
    dropped_duplicate_triples: int = 0
    dropped_duplicate_attributes: int = 0

    @property
    def num_entities(self) -> int:
        return len(self.entities)

    @property
    def num_relations(self) -> int:
        return len(self.relations)

    @property
    def num_attributes(self) -> int:
        return len(self.attributes)

    def entity_index(self) -> dict[str, int]:
        """Identifier -> local id."""
        return {e: i for i, e in enumerate(self.entities)}


@dataclass
class MMKGPair:
    """Two KGs and the gold links between them.

    ``links`` is an int64 array (k, 2) of ``(kg1 entity, kg2 entity)``. It may be one-to-many
    (a KG2 entity linked from two KG1 entities, as in the real DB15K file): such links are all
    kept as gold. ``warnings`` lists what the readers tolerated (duplicates dropped, one-to-many
    links, partial dates, ...), each naming the file.
    """

    name: str
    kg1: KnowledgeGraph
    kg2: KnowledgeGraph
    links: np.ndarray
    warnings: list[str] = field(default_factory=list)
    source: str = ""  # the PATH it was loaded from
    fingerprint: str = ""  # hash of the input files (cache key, run provenance)

    @property
    def num_links(self) -> int:
        return int(len(self.links))


@dataclass(frozen=True)
class Split:
    """Rows of ``MMKGPair.links`` split into train seeds, validation and test (int64 arrays (k, 2))."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    seed_ratio: float
    seed: int
