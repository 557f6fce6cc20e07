"""Make ``sample_data/fb15k-db15k-small`` and ``sample_data/fb15k-yago15k-small`` from the real data.

A real subset of each benchmark pair in the MMKB layout, lines copied verbatim from
``$MIMEA_DATA/mmkb_offline`` (default ``../shared/data/mmkb_offline``):

1. Gold pairs are drawn without replacement with probability proportional to the square root of
   their degree ``min(deg_KG1, deg_KG2)`` (at least 1), with a fixed seed: well-connected pairs are
   likelier, so the subgraph stays connected, without taking only the hubs.
2. Up to ``--neighbours`` more entities per KG, drawn at random among those with a triple into the
   kept set and not linked to a kept entity — realistic unlinked distractors for the open protocol.
3. Every line of every file whose entities are all kept is copied: relation triples (duplicates
   included, as released), numerical triples, names, image index lines, and the links whose two ends
   are kept.

Usage: ``python scripts/make_sample_data.py [--pairs 2000] [--seed 0] [--out sample_data]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mimea_core.data import load_pair  # noqa: E402
from mimea_core.data.formats.mmkb import kg_files  # noqa: E402
from mimea_core.data.lines import triple_fields  # noqa: E402

PAIRS = {"fb15k-db15k-small": ("FB15K", "DB15K"), "fb15k-yago15k-small": ("FB15K", "YAGO15K")}


def degrees(triples: np.ndarray, n: int) -> np.ndarray:
    deg = np.zeros(n, dtype=np.int64)
    np.add.at(deg, triples[:, 0], 1)
    np.add.at(deg, triples[:, 2], 1)
    return deg


def choose(pair, num_pairs: int, neighbours: int, seed: int) -> tuple[set[str], set[str]]:
    """Identifiers of the kept KG1 and KG2 entities."""
    kg1, kg2, links = pair.kg1, pair.kg2, pair.links
    d1, d2 = degrees(kg1.triples, kg1.num_entities), degrees(kg2.triples, kg2.num_entities)
    weight = np.sqrt(np.maximum(np.minimum(d1[links[:, 0]], d2[links[:, 1]]), 1).astype(np.float64))
    rng = np.random.default_rng(seed)
    keys = np.log(rng.random(len(links))) / weight  # Efraimidis-Spirakis weighted sampling
    chosen = links[np.argsort(-keys, kind="stable")[:num_pairs]]
    keep = [np.zeros(kg1.num_entities, dtype=bool), np.zeros(kg2.num_entities, dtype=bool)]
    keep[0][chosen[:, 0]] = True
    keep[1][chosen[:, 1]] = True
    # Partners of kept entities are never distractors (that would hide a gold link).
    partner = [np.zeros(kg1.num_entities, dtype=bool), np.zeros(kg2.num_entities, dtype=bool)]
    partner[0][links[keep[1][links[:, 1]], 0]] = True
    partner[1][links[keep[0][links[:, 0]], 1]] = True
    extra = []
    for side, kg in enumerate((kg1, kg2)):
        t = kg.triples
        touches = np.zeros(kg.num_entities, dtype=np.int64)
        np.add.at(touches, t[keep[side][t[:, 2]], 0], 1)
        np.add.at(touches, t[keep[side][t[:, 0]], 2], 1)
        eligible = np.flatnonzero(~keep[side] & ~partner[side] & (touches > 0))
        extra.append(rng.choice(eligible, size=min(neighbours, len(eligible)), replace=False))
    keep[0][extra[0]] = True
    keep[1][extra[1]] = True
    return {kg1.entities[i] for i in np.flatnonzero(keep[0])}, {
        kg2.entities[i] for i in np.flatnonzero(keep[1])
    }


def copy_kg(src: Path, dst: Path, keep: set[str]) -> dict[str, int]:
    """Copy every line of the KG's MMKB files whose entities are all kept; line counts per file."""
    dst.mkdir(parents=True, exist_ok=True)
    counts = {}
    for key, path in kg_files(src).items():
        out = []
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                fields = triple_fields(line.rstrip("\n"))
                if not fields:
                    continue
                ents = [fields[0], fields[2]] if key == "triples" else [fields[0]]
                if all(e in keep for e in ents):
                    out.append(line if line.endswith("\n") else line + "\n")
        (dst / path.name).write_text("".join(out), encoding="utf-8")
        counts[path.name] = len(out)
    return counts


def copy_links(src: Path, dst: Path, keep1: set[str], keep2: set[str]) -> int:
    out = []
    with open(src, encoding="utf-8") as handle:
        for line in handle:
            fields = triple_fields(line.rstrip("\n"))
            if len(fields) == 3 and fields[0] in keep1 and fields[2] in keep2:
                out.append(line)
    dst.write_text("".join(out), encoding="utf-8")
    return len(out)


def isolated(kg) -> int:
    return int((degrees(kg.triples, kg.num_entities) == 0).sum())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


README = """# {folder} — a real subset of {kg1}–{kg2}

Made by `python scripts/make_sample_data.py --pairs {pairs} --neighbours {neighbours} --seed {seed}`
from `$MIMEA_DATA/mmkb_offline/` (the data root's MMKB-layout copy of the benchmark; see its
README.md for what is complete: the FB15K graph there has 64% of FB15K's triples, the YAGO15K graph
30% of YAGO15K's). Every line below is copied verbatim from the file of the same name there.

Selection (seed {seed}):
1. {pairs:,} gold pairs drawn from `{kg2}/{kg2}_SameAsLink.txt` without replacement, with
   probability proportional to `sqrt(min(degree in {kg1}, degree in {kg2}))` (at least 1), degrees
   counted on the unique relation triples (Efraimidis–Spirakis weighted sampling, numpy
   `default_rng({seed})`).
2. Up to {neighbours} more entities per KG, drawn with the same generator among those that have a
   triple into the kept set and are not linked to a kept entity — unlinked distractors. (When two
   such distractors happen to be linked to each other, that link is kept as gold too.)
3. All lines of each file whose entities (head and tail for relation triples) are all kept; the links
   whose two ends are kept.

`python -m mimea_core info sample_data/{folder}` loads it (an MMKB pair: two KG folders, the links
in the second, as in MMKB).

Loaded: {summary}

| file | lines | source file | sha256 (first 16 hex digits) |
|---|---|---|---|
{rows}
"""


INDEX = """# Sample data

Small real subsets of the two MMEA benchmark pairs, so that the app and the tests run offline on a
fresh clone. Each folder is one pair in the MMKB layout (`python -m mimea_core info sample_data/<name>`);
its README.md says where every file came from. Made by `python scripts/make_sample_data.py` (or
`make sample-data`) from `$MIMEA_DATA/mmkb_offline`; rerunning it reproduces the files byte for byte.

- `fb15k-db15k-small/`: FB15K–DB15K, 2,502 gold links.
- `fb15k-yago15k-small/`: FB15K–YAGO15K, 2,502 gold links (the YAGO15K graph available offline has 30%
  of its triples, so many YAGO entities here have no relation triples).

No image features exist offline (the image index files give image ids only).
"""


def make_pair(root: Path, out: Path, folder: str, pairs: int, neighbours: int, seed: int) -> None:
    kg1_name, kg2_name = PAIRS[folder]
    toml = REPO / "datasets" / f"{kg1_name.lower()}-{kg2_name.lower()}.toml"
    pair = load_pair(toml)
    keep1, keep2 = choose(pair, pairs, neighbours, seed)
    target = out / folder
    counts = {}
    for name, keep in ((kg1_name, keep1), (kg2_name, keep2)):
        for file, n in copy_kg(root / name, target / name, keep).items():
            counts[f"{name}/{file}"] = n
    link_name = f"{kg2_name}/{kg2_name}_SameAsLink.txt"
    counts[link_name] = copy_links(root / link_name, target / link_name, keep1, keep2)
    rows = "\n".join(
        f"| {rel} | {n:,} | mmkb_offline/{rel} | `{sha256(target / rel)[:16]}` |"
        for rel, n in sorted(counts.items())
    )
    sample = load_pair(target, use_cache=False)
    summary = f"{sample.num_links:,} gold links; " + "; ".join(
        f"{kg.name}: {kg.num_entities:,} entities ({isolated(kg):,} without relation triples), "
        f"{len(kg.triples):,} unique relation triples, {len(kg.attr_triples):,} attribute triples"
        for kg in (sample.kg1, sample.kg2)
    )
    (target / "README.md").write_text(
        README.format(
            folder=folder,
            kg1=kg1_name,
            kg2=kg2_name,
            pairs=pairs,
            neighbours=neighbours,
            seed=seed,
            rows=rows,
            summary=summary,
        ),
        encoding="utf-8",
    )
    print(f"{target}: {counts[link_name]} links, {len(keep1)} + {len(keep2)} entities")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=2500, help="gold pairs to draw")
    parser.add_argument("--neighbours", type=int, default=150, help="unlinked entities added per KG")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "sample_data")
    args = parser.parse_args()
    data = Path(os.environ.get("MIMEA_DATA", REPO.parent / "shared" / "data"))
    root = data / "mmkb_offline"
    if not root.is_dir():
        print(f"error: {root} not found (set MIMEA_DATA to the data root)", file=sys.stderr)
        return 2
    for folder in PAIRS:
        make_pair(root, args.out, folder, args.pairs, args.neighbours, args.seed)
    (args.out / "README.md").write_text(INDEX, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
