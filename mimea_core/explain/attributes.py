"""Attribute evidence for a pair: values shown readably, and values matched across the two graphs.

Two graphs name the same property differently (``location.geocode.latitude`` vs ``wgs84_pos#lat``),
so attributes are matched by *value*, not by name: two numeric values match when

- they are equal (``same value``), or within 0.5% of each other (``≈ same value``, e.g. 51.507 vs
  51.5), or
- both read as dates (the readers turn dates into fractional years, 1946-03-12 → 1946.16) and fall
  in the same year (``same year``).

Dates are shown as dates: a fractional year of a date-like attribute (name containing ``date``,
``year``, ``founded``, ``birth``, ``death``...) becomes ``YYYY`` or ``YYYY-MM``.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from mimea_core.data.types import KnowledgeGraph
from mimea_core.explain.entities import short_name

DATE_WORDS = re.compile(r"date|year|founded|birth|death|established|release|air_date", re.IGNORECASE)
REL_TOL = 0.005


def is_date_attribute(attribute: str) -> bool:
    return bool(DATE_WORDS.search(attribute))


def display_value(attribute: str, raw: str, numeric: float) -> str:
    """``raw`` unless it is a fractional year of a date-like attribute, then ``YYYY`` / ``YYYY-MM``."""
    if not is_date_attribute(attribute) or not math.isfinite(numeric) or re.search(r"\d-\d", raw):
        return raw
    if not 0 < numeric < 3000:
        return raw
    year = int(math.floor(numeric))
    month = int(round((numeric - year) * 12)) + 1
    if numeric == year:
        return str(year)
    return f"{year}-{min(month, 12):02d}"


def entity_attributes(kg: KnowledgeGraph, entity: int) -> pd.DataFrame:
    """attribute (short name), value (readable), numeric (float, NaN when not numeric)."""
    triples = np.asarray(kg.attr_triples).reshape(-1, 2)
    idx = np.flatnonzero(triples[:, 0] == entity)
    numeric = np.asarray(kg.attr_numeric, dtype=np.float64)
    rows = []
    for i in idx:
        attribute = short_name(kg.attributes[triples[i, 1]])
        value = float(numeric[i]) if i < len(numeric) else float("nan")
        rows.append((attribute, display_value(attribute, kg.attr_values[i], value), value))
    return pd.DataFrame(rows, columns=["attribute", "value", "numeric"])


def _match(a: float, b: float, dates: bool) -> str:
    if not (math.isfinite(a) and math.isfinite(b)):
        return ""
    if a == b:
        return "same value"
    if abs(a - b) <= REL_TOL * max(abs(a), abs(b)):
        return "≈ same value"
    if dates and 1000 <= a <= 2100 and math.floor(a) == math.floor(b):
        return "same year"
    return ""


def matched_attributes(kg1: KnowledgeGraph, e1: int, kg2: KnowledgeGraph, e2: int) -> pd.DataFrame:
    """Pairs of attributes of the two entities whose values match (see the module docstring):
    KG1 attribute, KG1 value, KG2 attribute, KG2 value, match."""
    left, right = entity_attributes(kg1, e1), entity_attributes(kg2, e2)
    rows = []
    for a in left.itertuples(index=False):
        for b in right.itertuples(index=False):
            how = _match(a.numeric, b.numeric, is_date_attribute(a.attribute) and is_date_attribute(b.attribute))
            if how:
                rows.append((a.attribute, a.value, b.attribute, b.value, how))
    return pd.DataFrame(rows, columns=["KG1 attribute", "KG1 value", "KG2 attribute", "KG2 value", "match"])


def aligned_neighbours(
    kg1: KnowledgeGraph, e1: int, kg2: KnowledgeGraph, e2: int, aligned: np.ndarray
) -> pd.DataFrame:
    """Neighbours of ``e1`` whose counterpart (in ``aligned``, (k, 2) known pairs: seeds and accepted
    pairs) is a neighbour of ``e2``: KG1 neighbour, KG1 relation, KG2 neighbour, KG2 relation."""
    t1, t2 = np.asarray(kg1.triples).reshape(-1, 3), np.asarray(kg2.triples).reshape(-1, 3)

    def around(triples: np.ndarray, e: int) -> dict[int, str]:
        out = {int(t): r for h, r, t in triples[triples[:, 0] == e]}
        out.update({int(h): r for h, r, t in triples[triples[:, 2] == e]})
        return out

    n1, n2 = around(t1, e1), around(t2, e2)
    rows = []
    for a, b in np.asarray(aligned, dtype=np.int64).reshape(-1, 2):
        if int(a) in n1 and int(b) in n2:
            rows.append((kg1.names[a], short_name(kg1.relations[n1[int(a)]]), kg2.names[b],
                         short_name(kg2.relations[n2[int(b)]])))  # fmt: skip
    return pd.DataFrame(rows, columns=["KG1 neighbour", "KG1 relation", "KG2 neighbour", "KG2 relation"])


def search_entities(kg: KnowledgeGraph, text: str, limit: int = 20) -> pd.DataFrame:
    """Entities whose name or identifier contains ``text`` (case-insensitive; plain text, not a
    pattern): entity, name, identifier; names starting with the text first."""
    needle = text.strip().lower()
    if not needle:
        return pd.DataFrame(columns=["entity", "name", "identifier"])
    hits = []
    for i, (name, ident) in enumerate(zip(kg.names, kg.entities, strict=False)):
        lname = (name or "").lower()
        if needle in lname or needle in ident.lower():
            hits.append((0 if lname.startswith(needle) else 1, len(lname), i))
    hits.sort()
    rows = [(i, kg.names[i], kg.entities[i]) for _, _, i in hits[:limit]]
    return pd.DataFrame(rows, columns=["entity", "name", "identifier"])
