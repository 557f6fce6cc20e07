"""The one tiny-pair builder of the test suite (no tests of its own; fixtures in conftest.py use it).

:func:`make_tiny_pair`: KG2 is a relabelled, slightly perturbed copy of KG1 (entity ``i`` of KG1
is entity ``perm[i]`` of KG2), so a model can learn the alignment from a few seeds within seconds.
``links=`` replaces the gold links (the KGs are then sized to fit them), for split tests.
:func:`tiny_split` splits its links; ``FAST`` is a configuration that trains in a second.

On disk: ``FORMATS`` holds a tiny valid pair in each input format (relative path -> content) and
:func:`write` writes one (with changes) to a folder, for the reader and bad-input tests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import KnowledgeGraph, MMKGPair, ModalityFeatures, Split

FAST = MIMEAConfig(
    dim=32, graph_heads=2, fusion_heads=2, batch_size=32, epochs=3, eval_every=1, ot_batch=32, num_threads=1
)


def _kg(name, n, triples, rel_names, attr_triples, values, attr_names, features=None) -> KnowledgeGraph:
    return KnowledgeGraph(
        name=name,
        entities=[f"{name}:e{i}" for i in range(n)],
        names=[f"{name} entity {i}" for i in range(n)],
        relations=rel_names,
        triples=np.asarray(triples, dtype=np.int64).reshape(-1, 3),
        attributes=attr_names,
        attr_triples=np.asarray(attr_triples, dtype=np.int64).reshape(-1, 2),
        attr_values=[str(v) for v in values],
        attr_numeric=np.asarray(values, dtype=np.float64),
        features=features or {},
    )


def make_tiny_pair(
    n: int = 60, seed: int = 0, visual: str = "none", links: np.ndarray | None = None
) -> MMKGPair:
    """``visual``: "none" (no features), "full" or "partial" (about half the entities have one)."""
    if links is not None:
        links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
        n = max(int(links.max()) + 1 if len(links) else 1, 2)
    rng = np.random.default_rng(seed)
    m = 5 * n
    h, t, r = rng.integers(0, n, m), rng.integers(0, n, m), rng.integers(0, 6, m)
    ok = h != t
    t1 = np.unique(np.stack([h[ok], r[ok], t[ok]], 1), axis=0)
    perm = rng.permutation(n)
    keep = rng.random(len(t1)) > 0.1
    t2 = np.stack([perm[t1[keep, 0]], t1[keep, 1], perm[t1[keep, 2]]], 1)
    a_ent = np.repeat(np.arange(n), 2)
    a_att = rng.integers(0, 4, 2 * n)
    a_val = rng.normal(size=2 * n) * 10
    a2 = np.stack([perm[a_ent], a_att], 1)
    feats1, feats2 = {}, {}
    if visual != "none":
        base = rng.normal(size=(n, 12)).astype(np.float32)
        mask1 = np.ones(n, bool) if visual == "full" else rng.random(n) < 0.5
        mask2 = np.ones(n, bool) if visual == "full" else rng.random(n) < 0.5
        x1 = np.where(mask1[:, None], base, 0).astype(np.float32)
        x2 = np.zeros_like(x1)
        x2[perm] = np.where(mask1[:, None] | True, base + 0.1 * rng.normal(size=base.shape), 0)
        mask2_by_kg2 = np.zeros(n, bool)
        mask2_by_kg2[perm] = mask2
        x2[~mask2_by_kg2] = 0
        feats1["visual"] = ModalityFeatures(x1, mask1, "v1")
        feats2["visual"] = ModalityFeatures(x2.astype(np.float32), mask2_by_kg2, "v2")
    kg1 = _kg("A", n, t1, [f"a:r{i}" for i in range(6)], np.stack([a_ent, a_att], 1), a_val,
              [f"a:p{i}" for i in range(4)], feats1)  # fmt: skip
    kg2 = _kg("B", n, t2, [f"b:r{i}" for i in range(6)], a2, a_val + rng.normal(size=2 * n),
              [f"b:p{i}" for i in range(4)], feats2)  # fmt: skip
    if links is None:
        links = np.stack([np.arange(n), perm], 1).astype(np.int64)
    return MMKGPair(name="TINY", kg1=kg1, kg2=kg2, links=links, source="tiny")


def tiny_split(pair: MMKGPair, train: float = 0.4, valid: float = 0.1, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    rows = pair.links[rng.permutation(len(pair.links))]
    a, b = int(train * len(rows)), int((train + valid) * len(rows))
    return Split(train=rows[:a], valid=rows[a:b], test=rows[b:], seed_ratio=train + valid, seed=seed)


MMKB = {
    "FB/FB_EntityTriples.txt": "/m/a\t/r/x\t/m/b\n/m/b\t/r/y\t/m/c\n",
    "FB/FB_NumericalTriples.txt": "/m/a\t<http://rdf.freebase.com/ns/h>\t1.5\n",
    "FB/FB_EntityNames.txt": "/m/a\tAlpha_One\n/m/b\tBeta\n",
    "FB/FB_ImageIndex.txt": "/m/a\tFBIMG1\n",
    "DB/DB_EntityTriples.txt": "<http://db/resource/A> <http://db/p> <http://db/resource/B> .\n",
    "DB/DB_NumericalTriples.txt": "<http://db/resource/A>\tbirthDate\t1987-10-##\n",
    "DB/DB_ImageIndex.txt": "<http://db/resource/B>\tDBIMG1\n",
    "DB/DB_SameAsLink.txt": "/m/a <SameAs> <http://db/resource/A> .\n/m/b <SameAs> <http://db/resource/B> .\n",
}
TSV = {
    "kg1/triples.tsv": "a\tr\tb\nb\tr\tc\n",
    "kg1/attributes.tsv": "a\theight\t1.80\n",
    "kg1/names.tsv": "a\tAlice\nd\tIsolated Dora\n",
    "kg1/images.tsv": "a\thttp://img/a.jpg\n",
    "kg2/triples.tsv": "x\ts\ty\n",
    "links.tsv": "a\tx\nb\ty\n",
}
MMEA = {
    "ent_ids_1": "0\t/m/a\n1\t/m/b\n2\t/m/c\n",
    "ent_ids_2": "3\t<http://db/resource/A>\n4\t<http://db/resource/B>\n",
    "triples_1": "0\t0\t1\n1\t1\t2\n",
    "triples_2": "3\t2\t4\n",
    "training_attrs_1": "/m/a\theight\tweight\n",
    "training_attrs_2": "<http://db/resource/A>\tbirthDate\n",
    "ill_ent_ids": "0\t3\n1\t4\n",
}
JAPE = {
    **{k: v for k, v in MMEA.items() if k != "ill_ent_ids"},
    "ref_ent_ids": "0\t3\n",
    "sup_ent_ids": "1\t4\n",
}
OPENKE = {
    "one/entity2id.txt": "3\n/m/a\t0\n/m/b\t1\n/m/c\t2\n",
    "one/relation2id.txt": "1\n/r/x\t0\n",
    "one/train2id.txt": "2\n0 1 0\n1 2 0\n",
    "two/entity2id.txt": "2\n<http://db/resource/A> 0\n<http://db/resource/B> 1\n",
    "two/relation2id.txt": "1\n<http://db/p> 0\n",
    "two/train2id.txt": "1\n0 1 0\n",
    "links.txt": "/m/a <SameAs> <http://db/resource/A> .\n",
    "pair.toml": 'root = "."\n[kg1]\nformat = "openke"\npath = "one"\n[kg2]\nformat = "openke"\npath = "two"\n'
    '[links]\npath = "links.txt"\n',
}
FORMATS = {"mmkb": MMKB, "tsv": TSV, "mmea": MMEA, "jape": JAPE, "openke": OPENKE}


def write(folder: Path, files: dict[str, str | bytes], **changes: str | bytes) -> Path:
    """Write ``files`` (with ``changes``: relative path -> new content) under ``folder``."""
    for rel, content in {**files, **changes}.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return folder
