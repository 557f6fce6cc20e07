"""Tiny synthetic MMKG pairs for the model and training tests (no tests of its own).

KG2 is a relabelled, slightly perturbed copy of KG1 (entity ``i`` of KG1 is entity ``perm[i]`` of
KG2), so a model can learn the alignment from a few seeds within seconds.
"""

from __future__ import annotations

import numpy as np

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import KnowledgeGraph, MMKGPair, ModalityFeatures, Split

FAST = MIMEAConfig(dim=32, graph_heads=2, fusion_heads=2, batch_size=32, epochs=3, eval_every=1, ot_batch=32, num_threads=1)


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


def make_tiny_pair(n: int = 60, seed: int = 0, visual: str = "none") -> MMKGPair:
    """``visual``: "none" (no features), "full" or "partial" (about half the entities have one)."""
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
    links = np.stack([np.arange(n), perm], 1).astype(np.int64)
    return MMKGPair(name="TINY", kg1=kg1, kg2=kg2, links=links, source="tiny")


def tiny_split(pair: MMKGPair, train: float = 0.4, valid: float = 0.1, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    rows = pair.links[rng.permutation(len(pair.links))]
    a, b = int(train * len(rows)), int((train + valid) * len(rows))
    return Split(train=rows[:a], valid=rows[a:b], test=rows[b:], seed_ratio=train + valid, seed=seed)
