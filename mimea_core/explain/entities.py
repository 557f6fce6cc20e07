"""What a curator sees of one entity: identifier, name, image, neighbours and attributes."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

import numpy as np
import pandas as pd

from mimea_core.data.types import KnowledgeGraph


def short_name(identifier: str) -> str:
    """Last path/fragment segment of a URI-like identifier, percent-decoded (for relation labels)."""
    text = identifier.strip().strip("<>")
    cut = max(text.rfind("/"), text.rfind("#"))
    tail = text[cut + 1 :] if 0 <= cut < len(text) - 1 else text
    return unquote(tail)


@dataclass
class EntityCard:
    kg: str
    entity: int
    identifier: str
    name: str
    image: str | None
    degree: int
    neighbours: pd.DataFrame  # direction (out|in), relation, neighbour, neighbour_name
    attributes: pd.DataFrame  # attribute, value


def entity_card(kg: KnowledgeGraph, entity: int, max_items: int = 25) -> EntityCard:
    """The side-by-side card of one entity (neighbours and attributes capped at ``max_items``)."""
    triples = np.asarray(kg.triples).reshape(-1, 3)
    out_rows = triples[triples[:, 0] == entity]
    in_rows = triples[triples[:, 2] == entity]
    neighbours = [
        ("out", short_name(kg.relations[r]), int(t), kg.names[t]) for _, r, t in out_rows[:max_items]
    ] + [("in", short_name(kg.relations[r]), int(h), kg.names[h]) for h, r, _ in in_rows[:max_items]]
    attr_triples = np.asarray(kg.attr_triples).reshape(-1, 2)
    attr_idx = np.flatnonzero(attr_triples[:, 0] == entity)[:max_items]
    attributes = [(short_name(kg.attributes[attr_triples[i, 1]]), kg.attr_values[i]) for i in attr_idx]
    return EntityCard(
        kg=kg.name,
        entity=int(entity),
        identifier=kg.entities[entity],
        name=kg.names[entity],
        image=kg.images.get(int(entity)),
        degree=int(len(out_rows) + len(in_rows)),
        neighbours=pd.DataFrame(neighbours, columns=["direction", "relation", "neighbour", "neighbour_name"]),
        attributes=pd.DataFrame(attributes, columns=["attribute", "value"]),
    )
