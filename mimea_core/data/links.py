"""Resolving gold links (pairs of entity identifiers) against the two KGs.

Checks, each naming file and line: both ends must be known entities, the first of KG1 and the
second of KG2 (a link with both ends in one KG, or reversed, is an error). Identical duplicate
links are dropped with a warning; one-to-many links (an entity linked to several entities of the
other KG, as four DBpedia targets in the real DB15K file) are kept as gold with a warning that
names them. With ``strict=True`` both warnings are :class:`StrictModeError` instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mimea_core.errors import DataFormatError, StrictModeError

NAMES_IN_WARNING = 5


@dataclass
class RawLinks:
    """Links as read: ``rows`` of ``(file, line number, kg1 identifier, kg2 identifier)``.

    ``path`` names the links for messages (the first file when there are several).
    """

    path: Path
    rows: list[tuple[Path, int, str, str]] = field(default_factory=list)


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:NAMES_IN_WARNING])
    more = len(items) - NAMES_IN_WARNING
    return shown + (f" and {more} more" if more > 0 else "")


def resolve_links(
    raw: RawLinks,
    kg1_index: dict[str, int],
    kg2_index: dict[str, int],
    kg1_name: str,
    kg2_name: str,
    strict: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """``(links int64 (k, 2), warnings)``; raises :class:`DataFormatError` for bad links."""
    pairs: list[tuple[int, int]] = []
    seen: dict[tuple[int, int], tuple[Path, int]] = {}
    duplicates: list[str] = []
    for path, lineno, left, right in raw.rows:
        a = kg1_index.get(left)
        b = kg2_index.get(right)
        if a is None or b is None:
            raise DataFormatError(
                path, lineno, _bad_link(left, right, kg1_index, kg2_index, kg1_name, kg2_name)
            )
        if (a, b) in seen:
            first_path, first_line = seen[(a, b)]
            where = (
                f"lines {first_line} and {lineno}"
                if first_path == path
                else f"{first_path.name}:{first_line} and {path.name}:{lineno}"
            )
            duplicates.append(f"{left} -> {right} ({where})")
            continue
        seen[(a, b)] = (path, lineno)
        pairs.append((a, b))
    if not pairs:
        raise DataFormatError(
            raw.path, None, f"no links; expected lines '{kg1_name} entity, {kg2_name} entity'"
        )
    links = np.asarray(pairs, dtype=np.int64)
    warnings: list[str] = []
    if duplicates:
        if strict:
            raise StrictModeError(
                raw.path,
                None,
                f"{len(duplicates)} identical duplicate link(s) (refused by --strict): {_listing(duplicates)}",
            )
        warnings.append(
            f"{raw.path}: {len(duplicates)} identical duplicate link(s) dropped: {_listing(duplicates)}"
        )
    kg1_entities = list(kg1_index)
    kg2_entities = list(kg2_index)
    for side, entities, other in ((1, kg2_entities, kg1_name), (0, kg1_entities, kg2_name)):
        counts = Counter(links[:, side].tolist())
        multi = sorted(e for e, c in counts.items() if c > 1)
        if multi:
            kg_name = kg2_name if side == 1 else kg1_name
            names = [f"{entities[e]} ({counts[e]} {other} entities)" for e in multi]
            problem = (
                f"one-to-many links: {len(multi)} {kg_name} entit{'y is' if len(multi) == 1 else 'ies are'} "
                f"linked to several {other} entities"
            )
            if strict:
                raise StrictModeError(raw.path, None, f"{problem} (refused by --strict): {_listing(names)}")
            warnings.append(f"{raw.path}: {problem}, all kept as gold: {_listing(names)}")
    return links, warnings


def _bad_link(
    left: str, right: str, kg1: dict[str, int], kg2: dict[str, int], kg1_name: str, kg2_name: str
) -> str:
    if left in kg2 and right in kg1 and left not in kg1:
        return (
            f"link is reversed: {left!r} is a {kg2_name} entity and {right!r} a {kg1_name} entity; "
            f"expected the {kg1_name} entity first"
        )
    if left in kg1 and right in kg1 and right not in kg2:
        return f"both ends of the link are {kg1_name} entities ({left!r}, {right!r}); expected a {kg2_name} entity second"
    if left in kg2 and right in kg2 and left not in kg1:
        return f"both ends of the link are {kg2_name} entities ({left!r}, {right!r}); expected a {kg1_name} entity first"
    if left not in kg1:
        return f"unknown {kg1_name} entity {left!r} (not in any {kg1_name} file); expected a {kg1_name} entity first"
    return f"unknown {kg2_name} entity {right!r} (not in any {kg2_name} file); expected a {kg2_name} entity second"
