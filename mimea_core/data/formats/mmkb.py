"""Reader for the MMKB layout (FB15K / DB15K / YAGO15K releases, ``../shared/data/mmkb_offline``).

One folder per KG holding ``<KG>_EntityTriples.txt`` (required), ``<KG>_NumericalTriples*.txt``,
``<KG>_EntityNames.txt`` and ``<KG>_ImageIndex.txt`` (optional); the links to KG1 sit in the second
KG's folder as ``<KG>_SameAsLink.txt`` (``/m/x <SameAs> <uri> .``). Lines may be tab-separated or
N-Triples-like; both forms are read.
"""

from __future__ import annotations

from pathlib import Path

from mimea_core.data.builder import KGBuilder, UnknownEntity
from mimea_core.data.lines import expect_fields, split_first, triple_fields
from mimea_core.data.links import RawLinks
from mimea_core.data.names import clean_name
from mimea_core.data.pair import PairPlan, assemble
from mimea_core.data.textio import data_lines, is_present, read_lines
from mimea_core.data.values import literal_text
from mimea_core.errors import DataFormatError

TRIPLES = "_EntityTriples.txt"
NUMERICAL = "_NumericalTriples"
NAMES = "_EntityNames.txt"
IMAGES = "_ImageIndex.txt"
LINKS = "_SameAsLink.txt"


def is_mmkb_kg(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob(f"*{TRIPLES}"))


def _one(folder: Path, pattern: str, required: bool) -> Path | None:
    found = sorted(p for p in folder.glob(pattern) if is_present(p, f"MMKB data ({pattern})"))
    if not found:
        if required:
            raise DataFormatError(folder, None, f"no file matching {pattern!r}; expected an MMKB KG folder")
        return None
    return found[0]


def kg_files(folder: Path) -> dict[str, Path]:
    """The MMKB files of one KG folder: keys ``triples`` (always), ``numerical``, ``names``, ``images``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataFormatError(folder, None, "folder not found; expected an MMKB KG folder")
    files = {"triples": _one(folder, f"*{TRIPLES}", True)}
    for key, pattern in (
        ("numerical", f"*{NUMERICAL}*.txt"),
        ("names", f"*{NAMES}"),
        ("images", f"*{IMAGES}"),
    ):
        path = _one(folder, pattern, False)
        if path is not None:
            files[key] = path
    return files  # type: ignore[return-value]


def kg_name(folder: Path) -> str:
    return kg_files(folder)["triples"].name[: -len(TRIPLES)] or Path(folder).name


def read_kg(folder: Path, name: str | None = None) -> KGBuilder:
    files = kg_files(folder)
    builder = KGBuilder(name or kg_name(folder))
    read_triples(files["triples"], builder)
    if "numerical" in files:
        read_attributes(files["numerical"], builder)
    if "names" in files:
        read_names(files["names"], builder)
    if "images" in files:
        read_images(files["images"], builder)
    return builder


def read_triples(path: Path, builder: KGBuilder) -> None:
    what = "head, relation, tail: tab-separated or '<h> <r> <t> .'"
    builder.sources.setdefault("triples", str(path))
    add = builder.add_triple
    for lineno, line in data_lines(read_lines(path, "relation triples")):
        fields = triple_fields(line)
        if len(fields) != 3 or not all(fields):
            expect_fields(path, lineno, fields, 3, what)
        try:
            add(fields[0], fields[1], fields[2])
        except UnknownEntity as err:
            raise unknown(path, lineno, builder, err) from None


def read_attributes(path: Path, builder: KGBuilder) -> None:
    what = "entity, attribute, value"
    builder.sources.setdefault("attributes", str(path))
    for lineno, line in data_lines(read_lines(path, "attribute triples")):
        fields = triple_fields(line)
        if len(fields) != 3 or not all(fields):
            expect_fields(path, lineno, fields, 3, what)
        try:
            builder.add_attribute(fields[0], fields[1], literal_text(fields[2]))
        except UnknownEntity as err:
            raise unknown(path, lineno, builder, err) from None


def read_names(path: Path, builder: KGBuilder) -> None:
    for lineno, line in data_lines(read_lines(path, "entity names")):
        entity, name = split_first(path, lineno, line, "entity, name")
        try:
            builder.add_name(entity, clean_name(name))
        except UnknownEntity as err:
            raise unknown(path, lineno, builder, err) from None


def read_images(path: Path, builder: KGBuilder) -> None:
    for lineno, line in data_lines(read_lines(path, "an image index")):
        entity, image = split_first(path, lineno, line, "entity, image id or URL")
        try:
            builder.add_image(entity, image)
        except UnknownEntity as err:
            raise unknown(path, lineno, builder, err) from None


def unknown(path: Path, lineno: int, builder: KGBuilder, err: UnknownEntity) -> DataFormatError:
    return DataFormatError(
        path,
        lineno,
        f"unknown {builder.name} entity {err.args[0]!r}; expected one listed in {builder.closed_by}",
    )


def read_links(path: Path) -> RawLinks:
    """``/m/x <SameAs> <uri> .`` (or ``a<TAB>b``) lines; the KG1 (FB15K) entity comes first."""
    raw = RawLinks(Path(path))
    for lineno, line in data_lines(read_lines(path, "links '/m/x <SameAs> <uri> .'")):
        fields = triple_fields(line)
        if len(fields) == 3:
            left, right = fields[0], fields[2]
        elif len(fields) == 2 and "\t" in line:
            left, right = fields
        else:
            raise DataFormatError(
                path,
                lineno,
                f"expected a link 'kg1_entity <SameAs> kg2_entity .', found {len(fields)} fields",
            )
        if not left or not right:
            raise DataFormatError(
                path, lineno, "expected a link 'kg1_entity <SameAs> kg2_entity .', found an empty field"
            )
        raw.rows.append((raw.path, lineno, left, right))
    return raw


def find_links(folder: Path) -> Path | None:
    return _one(Path(folder), f"*{LINKS}", False)


def pair_plan(
    kg1_dir: Path, kg2_dir: Path, links_path: Path | None = None, name: str | None = None
) -> PairPlan:
    """The plan for the pair of two MMKB KG folders (links: ``*_SameAsLink.txt`` in the second by default)."""
    files = list(kg_files(kg1_dir).values()) + list(kg_files(kg2_dir).values())
    links = links_path or find_links(kg2_dir)
    if links is None:
        raise DataFormatError(
            kg2_dir, None, f"no *{LINKS} file; expected the links to {kg_name(kg1_dir)} here"
        )
    files.append(links)
    pair_name = name or f"{kg_name(kg1_dir)}-{kg_name(kg2_dir)}"

    def build(strict: bool):
        return assemble(
            pair_name,
            read_kg(kg1_dir),
            read_kg(kg2_dir),
            read_links(links),
            strict,
            (str(kg1_dir), str(kg2_dir)),
        )

    return PairPlan(name=pair_name, format="mmkb", files=files, build=build)


def root_pair_plan(root: Path, pair: str) -> PairPlan:
    """A pair of an MMKB root folder by name: ``FB15K-DB15K`` = ``root/FB15K`` + ``root/DB15K`` (links in the latter)."""
    parts = pair.split("-")
    if len(parts) != 2 or not all(parts):
        raise DataFormatError(root, None, f"pair name {pair!r}: expected 'KG1-KG2', e.g. 'FB15K-DB15K'")
    return pair_plan(Path(root) / parts[0], Path(root) / parts[1], name=pair)


def detect_pair(folder: Path) -> PairPlan | None:
    """The plan of a folder holding exactly two MMKB KG folders (KG2 = the one with the links), else None."""
    kg_dirs = sorted(p for p in folder.iterdir() if is_mmkb_kg(p))
    if not kg_dirs:
        return None
    with_links = [p for p in kg_dirs if find_links(p) is not None]
    if len(kg_dirs) != 2 or len(with_links) != 1:
        names = ", ".join(p.name for p in kg_dirs)
        raise DataFormatError(
            folder,
            None,
            f"holds {len(kg_dirs)} MMKB KG folder(s) ({names}), {len(with_links)} with a *_SameAsLink.txt; expected "
            "exactly two, one holding the links (address a pair of a larger MMKB folder with a .toml, see datasets/)",
        )
    kg2_dir = with_links[0]
    kg1_dir = next(p for p in kg_dirs if p != kg2_dir)
    return pair_plan(kg1_dir, kg2_dir)
