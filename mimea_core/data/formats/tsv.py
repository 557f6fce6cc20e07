"""Our own simple TSV layout for users' graphs (one pair per folder).

::

    my-pair/
      links.tsv              kg1_entity <TAB> kg2_entity          (gold links, required)
      kg1/triples.tsv        head <TAB> relation <TAB> tail       (required)
      kg1/attributes.tsv     entity <TAB> attribute <TAB> value   (optional)
      kg1/names.tsv          entity <TAB> display name            (optional; may list isolated entities)
      kg1/images.tsv         entity <TAB> image id or URL         (optional)
      kg1/visual.npy         float matrix, one row per line of kg1/visual_ids.txt (optional)
      kg2/...                the same for the second KG

Identifiers are any strings without tabs. A KG's entities are all identifiers in its files; a link
to an identifier found in none of them is an error. An optional ``kg1/NAME`` file gives the KG's
display name (default ``kg1``/``kg2``).
"""

from __future__ import annotations

from pathlib import Path

from mimea_core.data.builder import KGBuilder
from mimea_core.data.links import RawLinks
from mimea_core.data.pair import FeatureSpec, PairPlan, assemble
from mimea_core.data.textio import data_lines, is_present, read_lines
from mimea_core.errors import DataFormatError

OPTIONAL = ("attributes.tsv", "names.tsv", "images.tsv")


def is_tsv_pair(folder: Path) -> bool:
    return (folder / "links.tsv").is_file() and (folder / "kg1").is_dir() and (folder / "kg2").is_dir()


def kg_input_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    triples = folder / "triples.tsv"
    what = "the KG's relation triples (head, relation, tail)"
    if not is_present(triples, what):
        raise DataFormatError(triples, None, f"file not found; expected {what}")
    return [triples] + [folder / n for n in OPTIONAL if is_present(folder / n, "optional KG data")]


def _fields(path: Path, lineno: int, line: str, count: int, what: str) -> list[str]:
    fields = [f.strip() for f in line.split("\t")]
    if len(fields) != count:
        raise DataFormatError(
            path, lineno, f"expected {count} tab-separated columns ({what}), found {len(fields)}"
        )
    if not all(fields):
        raise DataFormatError(path, lineno, f"empty column; expected {count} tab-separated columns ({what})")
    return fields


def read_kg(folder: Path, name: str | None = None) -> KGBuilder:
    folder = Path(folder)
    files = kg_input_files(folder)
    name_file = folder / "NAME"
    if name is None and name_file.is_file():
        name = name_file.read_text(encoding="utf-8", errors="replace").strip() or None
    builder = KGBuilder(name or folder.name)
    for path in files:
        what = {
            "triples.tsv": "head, relation, tail",
            "attributes.tsv": "entity, attribute, value",
            "names.tsv": "entity, name",
            "images.tsv": "entity, image",
        }[path.name]
        builder.sources.setdefault(path.stem, str(path))
        count = 3 if path.name in ("triples.tsv", "attributes.tsv") else 2
        for lineno, line in data_lines(read_lines(path, what)):
            f = _fields(path, lineno, line, count, what)
            if path.name == "triples.tsv":
                builder.add_triple(f[0], f[1], f[2])
            elif path.name == "attributes.tsv":
                builder.add_attribute(f[0], f[1], f[2])
            elif path.name == "names.tsv":
                builder.add_name(f[0], f[1])
            else:
                builder.add_image(f[0], f[1])
    return builder


def read_links(path: Path) -> RawLinks:
    raw = RawLinks(path)
    for lineno, line in data_lines(read_lines(path, "links (kg1 entity, kg2 entity)")):
        a, b = _fields(path, lineno, line, 2, "kg1 entity, kg2 entity")
        raw.rows.append((path, lineno, a, b))
    return raw


def _features(folder: Path) -> dict[str, FeatureSpec]:
    found = {}
    for npy in sorted(folder.glob("*.npy")):
        ids = npy.with_name(npy.stem + "_ids.txt")
        found[npy.stem] = FeatureSpec(npy, ids if ids.is_file() else None)
    return found


def plan(folder: Path) -> PairPlan:
    folder = Path(folder)
    kg_dirs = (folder / "kg1", folder / "kg2")
    files = kg_input_files(kg_dirs[0]) + kg_input_files(kg_dirs[1]) + [folder / "links.tsv"]
    f1, f2 = _features(kg_dirs[0]), _features(kg_dirs[1])
    features = {m: (f1.get(m), f2.get(m)) for m in sorted(set(f1) | set(f2))}

    def build(strict: bool):
        b1, b2 = read_kg(kg_dirs[0]), read_kg(kg_dirs[1])
        return assemble(
            folder.name, b1, b2, read_links(folder / "links.tsv"), strict, (str(kg_dirs[0]), str(kg_dirs[1]))
        )

    return PairPlan(name=folder.name, format="tsv", files=files, build=build, features=features)


def write_pair(pair, folder: Path) -> None:
    """Write ``pair`` in this TSV layout (converting any readable format to ours); features are not written."""
    folder = Path(folder)
    for side, kg in (("kg1", pair.kg1), ("kg2", pair.kg2)):
        out = folder / side
        out.mkdir(parents=True, exist_ok=True)
        (out / "NAME").write_text(kg.name + "\n", encoding="utf-8")
        e, r, a = kg.entities, kg.relations, kg.attributes
        with open(out / "triples.tsv", "w", encoding="utf-8") as handle:
            handle.writelines(f"{e[h]}\t{r[rel]}\t{e[t]}\n" for h, rel, t in kg.triples.tolist())
        if len(kg.attr_triples):
            with open(out / "attributes.tsv", "w", encoding="utf-8") as handle:
                for (ent, att), value in zip(kg.attr_triples.tolist(), kg.attr_values, strict=True):
                    handle.write(f"{e[ent]}\t{a[att]}\t{value}\n")
        with open(out / "names.tsv", "w", encoding="utf-8") as handle:
            handle.writelines(f"{ent}\t{name}\n" for ent, name in zip(e, kg.names, strict=True))
        if kg.images:
            with open(out / "images.tsv", "w", encoding="utf-8") as handle:
                handle.writelines(f"{e[i]}\t{img}\n" for i, img in kg.images.items())
    with open(folder / "links.tsv", "w", encoding="utf-8") as handle:
        handle.writelines(f"{pair.kg1.entities[a]}\t{pair.kg2.entities[b]}\n" for a, b in pair.links.tolist())


def detect_pair(folder: Path) -> PairPlan | None:
    """The plan of ``folder`` when it is in this layout, else None."""
    return plan(folder) if is_tsv_pair(folder) else None
