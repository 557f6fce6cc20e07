"""Reader for the OpenKE id format: one KG per folder.

``entity2id.txt`` and ``relation2id.txt`` (first line the count, then ``identifier id``, split on
the last run of whitespace since both ``<uri> 0`` and ``/m/x<TAB>0`` occur), and any of
``train2id.txt``, ``valid2id.txt``, ``test2id.txt`` (first line the count, then ``head tail
relation``, OpenKE's order). Optional: ``entity2text.txt`` (``identifier<TAB>name``) and an
MMKB-style ``*NumericalTriples*.txt``. Two OpenKE folders form a pair through a ``.toml``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mimea_core.data.builder import KGBuilder
from mimea_core.data.formats import mmkb
from mimea_core.data.lines import parse_int, split_last
from mimea_core.data.textio import data_lines, read_lines
from mimea_core.errors import DataFormatError

ENTITIES = "entity2id.txt"
RELATIONS = "relation2id.txt"
SPLITS = ("train2id.txt", "valid2id.txt", "test2id.txt")
NAMES = "entity2text.txt"


def is_openke(folder: Path) -> bool:
    return (folder / ENTITIES).is_file()


def input_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not (folder / ENTITIES).is_file():
        raise DataFormatError(
            folder / ENTITIES, None, "file not found; expected an OpenKE folder (entity2id.txt)"
        )
    files = [folder / ENTITIES, folder / RELATIONS]
    splits = [folder / s for s in SPLITS if (folder / s).is_file()]
    if not splits:
        raise DataFormatError(folder, None, f"no triple file; expected one of {', '.join(SPLITS)}")
    files += splits
    files += [p for p in [folder / NAMES] if p.is_file()]
    files += sorted(folder.glob(f"*{mmkb.NUMERICAL}*.txt"))[:1]
    return files


def read_id_file(path: Path, what: str) -> list[str]:
    """Identifiers by id from an OpenKE ``*2id.txt`` file (ids must be 0..n-1, each once)."""
    by_id: dict[int, str] = {}
    line_of: dict[str, int] = {}
    declared = None
    first_line = 0
    for lineno, line in data_lines(read_lines(path, f"'{what} id' lines after a count line")):
        if declared is None:
            declared = parse_int(path, lineno, line.strip(), f"count of {what}s on the first line")
            first_line = lineno
            continue
        identifier, id_text = split_last(path, lineno, line, f"{what}, id")
        index = parse_int(path, lineno, id_text, f"{what} id")
        if not 0 <= index < declared:
            raise DataFormatError(
                path,
                lineno,
                f"{what} id {index} out of range; expected 0..{declared - 1} (count on line {first_line})",
            )
        if index in by_id:
            raise DataFormatError(
                path, lineno, f"{what} id {index} defined twice (also line {line_of[by_id[index]]})"
            )
        if identifier in line_of:
            raise DataFormatError(
                path, lineno, f"{what} {identifier!r} defined twice (also line {line_of[identifier]})"
            )
        by_id[index] = identifier
        line_of[identifier] = lineno
    if declared is None or len(by_id) != declared:
        raise DataFormatError(
            path, first_line or None, f"count line says {declared} {what}s, found {len(by_id)}"
        )
    return [by_id[i] for i in range(declared)]


def read_triple_ids(path: Path, num_entities: int, num_relations: int) -> np.ndarray:
    """``(head, relation, tail)`` rows from an OpenKE ``*2id.txt`` triple file (``h t r`` on disk)."""
    rows: list[tuple[int, int, int]] = []
    declared = None
    for lineno, line in data_lines(read_lines(path, "'head tail relation' id lines after a count line")):
        parts = line.split()
        if declared is None:
            if len(parts) != 1:
                raise DataFormatError(
                    path, lineno, f"expected the triple count on the first line, found {len(parts)} fields"
                )
            declared = parse_int(path, lineno, parts[0], "triple count")
            continue
        if len(parts) != 3:
            raise DataFormatError(
                path, lineno, f"expected 3 fields (head tail relation ids), found {len(parts)}"
            )
        h, t, r = (parse_int(path, lineno, p, "id") for p in parts)
        for value, limit, what in (
            (h, num_entities, "head entity"),
            (t, num_entities, "tail entity"),
            (r, num_relations, "relation"),
        ):
            if not 0 <= value < limit:
                raise DataFormatError(
                    path, lineno, f"{what} id {value} out of range; expected 0..{limit - 1}"
                )
        rows.append((h, r, t))
    return np.asarray(rows, dtype=np.int64).reshape(-1, 3)


def read_kg(folder: Path, name: str | None = None) -> KGBuilder:
    folder = Path(folder)
    files = input_files(folder)
    entities = read_id_file(folder / ENTITIES, "entity")
    relations = read_id_file(folder / RELATIONS, "relation")
    builder = KGBuilder(name or folder.name)
    for e in entities:
        builder.entity(e)
    for r in relations:
        builder.relation(r)
    builder.close(str(folder / ENTITIES))
    for path in files[2:]:
        if path.name in SPLITS:
            builder.sources.setdefault("triples", str(folder / "*2id.txt"))
            triples = read_triple_ids(path, len(entities), len(relations))
            builder.add_triple_ids(triples[:, 0], triples[:, 1], triples[:, 2])
        elif path.name == NAMES:
            mmkb.read_names(path, builder)
        else:
            mmkb.read_attributes(path, builder)
    return builder


def detect_pair(folder: Path) -> None:
    """A folder with one OpenKE KG is not a pair: say how to address one (a .toml naming two)."""
    if is_openke(folder):
        raise DataFormatError(
            folder,
            None,
            "holds one KG in the OpenKE id format; a pair of two OpenKE folders is addressed by a "
            ".toml naming both and the links file (see datasets/*.toml)",
        )
