"""Readers for the id-based pair formats: MMEA preprocessed (MCLEA / MEAformer) and JAPE / DBP15K.

Both put one pair in a folder with global integer ids shared by the two KGs:
``ent_ids_1`` / ``ent_ids_2`` (``id<TAB>identifier``), ``triples_1`` / ``triples_2``
(``head<TAB>relation<TAB>tail`` ids), optional ``rel_ids_1`` / ``rel_ids_2`` (``id<TAB>relation``)
and ``training_attrs_1`` / ``training_attrs_2`` (``identifier<TAB>attribute<TAB>attribute...``,
attribute names without values). Gold links: MMEA ``ill_ent_ids``; JAPE ``ref_ent_ids`` plus the
optional ``sup_ent_ids`` (``id1<TAB>id2``). An image-feature pickle ``{global id: vector}`` (any
``*.pkl`` in the folder) is read only with ``allow_pickle=True``. Missing ``triples_*`` files load
with a warning (the real FB15K_DB15K release in ../shared/data has none).
"""

from __future__ import annotations

from pathlib import Path

from mimea_core.data.builder import KGBuilder
from mimea_core.data.lines import parse_int, split_first
from mimea_core.data.links import RawLinks
from mimea_core.data.pair import FeatureSpec, PairPlan, assemble
from mimea_core.data.textio import data_lines, is_present, read_lines
from mimea_core.errors import DataFormatError

MMEA_LINKS = ("ill_ent_ids",)
JAPE_LINKS = ("ref_ent_ids", "sup_ent_ids")


def link_files(folder: Path) -> list[Path]:
    if is_present(folder / "ill_ent_ids", "MMEA links"):
        return [folder / "ill_ent_ids"]
    return [folder / n for n in JAPE_LINKS if is_present(folder / n, "JAPE links")]


def is_idformat(folder: Path) -> bool:
    return (folder / "ent_ids_1").is_file() and (folder / "ent_ids_2").is_file() and bool(link_files(folder))


def read_ent_ids(path: Path, owner: dict[int, tuple[int, str]], side: int) -> dict[int, str]:
    """``{global id: identifier}`` from an ``ent_ids_*`` file; ``owner`` tracks ids across both files."""
    ids: dict[int, str] = {}
    names: dict[str, int] = {}
    for lineno, line in data_lines(read_lines(path, "'id<TAB>entity' lines")):
        id_text, identifier = split_first(path, lineno, line, "id, entity")
        gid = parse_int(path, lineno, id_text, "entity id")
        if gid in owner:
            other_side, other_line = owner[gid]
            raise DataFormatError(
                path, lineno, f"entity id {gid} defined twice (also ent_ids_{other_side} line {other_line})"
            )
        if identifier in names:
            raise DataFormatError(
                path, lineno, f"entity {identifier!r} defined twice (also line {names[identifier]})"
            )
        owner[gid] = (side, lineno)
        ids[gid] = identifier
        names[identifier] = lineno
    return ids


def read_rel_ids(path: Path) -> dict[int, str]:
    rels: dict[int, str] = {}
    for lineno, line in data_lines(read_lines(path, "'id<TAB>relation' lines")):
        id_text, identifier = split_first(path, lineno, line, "id, relation")
        rid = parse_int(path, lineno, id_text, "relation id")
        if rid in rels:
            raise DataFormatError(path, lineno, f"relation id {rid} defined twice")
        rels[rid] = identifier
    return rels


def read_kg(folder: Path, side: int, entity_ids: dict[int, str], name: str) -> tuple[KGBuilder, list[str]]:
    builder = KGBuilder(name)
    for identifier in entity_ids.values():
        builder.entity(identifier)
    builder.close(f"ent_ids_{side}")
    warnings = []
    rel_path = folder / f"rel_ids_{side}"
    rel_names = read_rel_ids(rel_path) if is_present(rel_path, "relation ids") else {}
    triples = folder / f"triples_{side}"
    if is_present(triples, "relation triples"):
        builder.sources["triples"] = str(triples)
        for lineno, line in data_lines(read_lines(triples, "'head<TAB>relation<TAB>tail' id lines")):
            parts = line.split()
            if len(parts) != 3:
                raise DataFormatError(
                    triples, lineno, f"expected 3 fields (head, relation, tail ids), found {len(parts)}"
                )
            h, r, t = (parse_int(triples, lineno, p, "id") for p in parts)
            for gid in (h, t):
                if gid not in entity_ids:
                    raise DataFormatError(
                        triples,
                        lineno,
                        f"entity id {gid} is not in ent_ids_{side}; expected a {name} entity id",
                    )
            builder.add_triple(entity_ids[h], rel_names.get(r, f"relation_{r}"), entity_ids[t])
    else:
        warnings.append(f"{triples}: not found; {name} has no relation triples")
    attrs = folder / f"training_attrs_{side}"
    if is_present(attrs, "attribute lines"):
        index = builder.entity_ids
        for lineno, line in data_lines(read_lines(attrs, "'entity<TAB>attribute...' lines")):
            parts = [p.strip() for p in line.split("\t")]
            if parts[0] not in index:
                raise DataFormatError(
                    attrs,
                    lineno,
                    f"unknown {name} entity {parts[0]!r}; expected one listed in ent_ids_{side}",
                )
            for attribute in parts[1:]:
                if attribute:
                    builder.add_attribute(parts[0], attribute, "")
    return builder, warnings


def read_id_links(paths: list[Path], ids: dict[int, str]) -> RawLinks:
    raw = RawLinks(paths[0])
    for path in paths:
        for lineno, line in data_lines(read_lines(path, "'kg1_id<TAB>kg2_id' lines")):
            parts = line.split()
            if len(parts) != 2:
                raise DataFormatError(path, lineno, f"expected 2 fields (kg1 id, kg2 id), found {len(parts)}")
            a, b = (parse_int(path, lineno, p, "entity id") for p in parts)
            for gid in (a, b):
                if gid not in ids:
                    raise DataFormatError(
                        path, lineno, f"unknown entity id {gid}; expected an id from ent_ids_1 / ent_ids_2"
                    )
            raw.rows.append((path, lineno, ids[a], ids[b]))
    return raw


def plan(folder: Path) -> PairPlan:
    folder = Path(folder)
    links = link_files(folder)
    fmt = "mmea" if links[0].name == "ill_ent_ids" else "jape"
    optional = [
        folder / n
        for n in ("triples_1", "triples_2", "rel_ids_1", "rel_ids_2", "training_attrs_1", "training_attrs_2")
        if is_present(folder / n, "MMEA/JAPE data")
    ]
    files = [folder / "ent_ids_1", folder / "ent_ids_2", *optional, *links]
    pickles = sorted(folder.glob("*.pkl"))

    def build(strict: bool):
        owner: dict[int, tuple[int, str]] = {}
        ids1 = read_ent_ids(folder / "ent_ids_1", owner, 1)
        ids2 = read_ent_ids(folder / "ent_ids_2", owner, 2)
        b1, w1 = read_kg(folder, 1, ids1, "KG1")
        b2, w2 = read_kg(folder, 2, ids2, "KG2")
        pair = assemble(
            folder.name, b1, b2, read_id_links(links, {**ids1, **ids2}), strict, (str(folder), str(folder))
        )
        pair.warnings[:0] = w1 + w2
        return pair

    features = {}
    if pickles:
        # The id maps need the ent_ids files; they are read again (cheap) when the features are attached.
        owner: dict[int, tuple[int, str]] = {}
        try:
            ids1 = read_ent_ids(folder / "ent_ids_1", owner, 1)
            ids2 = read_ent_ids(folder / "ent_ids_2", owner, 2)
        except DataFormatError:
            ids1, ids2 = {}, {}
        map1 = {g: i for i, g in enumerate(ids1)}
        map2 = {g: i for i, g in enumerate(ids2)}
        features["visual"] = (FeatureSpec(pickles[0], id_map=map1), FeatureSpec(pickles[0], id_map=map2))
    return PairPlan(name=folder.name, format=fmt, files=files, build=build, features=features)


def detect_pair(folder: Path) -> PairPlan | None:
    """The plan of ``folder`` when it is in this layout, else None."""
    return plan(folder) if is_idformat(folder) else None
