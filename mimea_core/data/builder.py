"""Assembling a :class:`KnowledgeGraph` from identifier strings, shared by every reader.

Entities are numbered in order of first appearance. A KG's entities are every identifier that
appears in its relation triples, attribute triples, names, image index (or explicit entity list):
each of those files declares the entities it mentions. Exact duplicate triples are dropped and
counted.
"""

from __future__ import annotations

import numpy as np

from mimea_core.data.names import name_from_identifier
from mimea_core.data.types import KnowledgeGraph
from mimea_core.data.values import parse_value


class UnknownEntity(KeyError):
    """An identifier not in a closed entity list (readers turn it into a DataFormatError with the line)."""


class KGBuilder:
    """Collects one KG's entities, relations, triples, attributes, names and images.

    After :meth:`close` (formats with an explicit entity list: OpenKE, MMEA, JAPE), an unknown
    identifier raises :class:`UnknownEntity` instead of declaring a new entity.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed_by: str = ""  # the entity-list file, once closed
        self.entity_ids: dict[str, int] = {}
        self.relation_ids: dict[str, int] = {}
        self.attribute_ids: dict[str, int] = {}
        self._heads: list[int] = []
        self._rels: list[int] = []
        self._tails: list[int] = []
        self._attr_rows: list[tuple[int, int, str]] = []
        self.names: dict[int, str] = {}
        self.images: dict[int, str] = {}
        self.partial_values = 0
        self.sources: dict[str, str] = {}  # "triples" / "attributes" -> file read, for messages

    def entity(self, identifier: str) -> int:
        index = self.entity_ids.get(identifier)
        if index is None:
            if self.closed_by:
                raise UnknownEntity(identifier)
            index = self.entity_ids[identifier] = len(self.entity_ids)
        return index

    def close(self, entity_list: str) -> None:
        self.closed_by = entity_list

    def relation(self, identifier: str) -> int:
        index = self.relation_ids.get(identifier)
        if index is None:
            index = self.relation_ids[identifier] = len(self.relation_ids)
        return index

    def add_triple(self, head: str, relation: str, tail: str) -> None:
        self._heads.append(self.entity(head))
        self._rels.append(self.relation(relation))
        self._tails.append(self.entity(tail))

    def add_triple_ids(self, heads: np.ndarray, rels: np.ndarray, tails: np.ndarray) -> None:
        """Triples given as indices already registered with :meth:`entity` / :meth:`relation`."""
        self._heads.extend(int(x) for x in heads)
        self._rels.extend(int(x) for x in rels)
        self._tails.extend(int(x) for x in tails)

    def add_attribute(self, entity: str, attribute: str, value: str) -> None:
        aid = self.attribute_ids.get(attribute)
        if aid is None:
            aid = self.attribute_ids[attribute] = len(self.attribute_ids)
        self._attr_rows.append((self.entity(entity), aid, value))

    def add_name(self, entity: str, name: str) -> None:
        self.names.setdefault(self.entity(entity), name)

    def add_image(self, entity: str, image: str) -> None:
        self.images.setdefault(self.entity(entity), image)

    def build(self) -> KnowledgeGraph:
        entities = list(self.entity_ids)
        num_entities = len(entities)
        triples = np.stack(
            [
                np.asarray(self._heads, dtype=np.int64),
                np.asarray(self._rels, dtype=np.int64),
                np.asarray(self._tails, dtype=np.int64),
            ],
            axis=1,
        ).reshape(-1, 3)
        triples, dropped = unique_rows(triples, num_entities, max(len(self.relation_ids), 1))
        seen: set[tuple[int, int, str]] = set()
        rows: list[tuple[int, int, str]] = []
        for row in self._attr_rows:
            if row not in seen:
                seen.add(row)
                rows.append(row)
        numeric = np.empty(len(rows), dtype=np.float64)
        partial = 0
        for i, (_, _, value) in enumerate(rows):
            numeric[i], is_partial = parse_value(value)
            partial += is_partial
        self.partial_values = partial
        names = [self.names.get(i) or name_from_identifier(e) for i, e in enumerate(entities)]
        return KnowledgeGraph(
            name=self.name,
            entities=entities,
            names=names,
            relations=list(self.relation_ids),
            triples=triples,
            attributes=list(self.attribute_ids),
            attr_triples=np.asarray([(e, a) for e, a, _ in rows], dtype=np.int64).reshape(-1, 2),
            attr_values=[v for _, _, v in rows],
            attr_numeric=numeric,
            images=dict(sorted(self.images.items())),
            dropped_duplicate_triples=dropped,
            dropped_duplicate_attributes=len(self._attr_rows) - len(rows),
        )


def unique_rows(triples: np.ndarray, num_entities: int, num_relations: int) -> tuple[np.ndarray, int]:
    """``(triples without exact duplicates, in first-appearance order; number dropped)``."""
    if len(triples) == 0:
        return triples.reshape(0, 3), 0
    key = (triples[:, 0] * num_relations + triples[:, 1]) * max(num_entities, 1) + triples[:, 2]
    _, first = np.unique(key, return_index=True)
    first.sort()
    return triples[first], len(triples) - len(first)
