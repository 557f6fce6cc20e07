"""A seeded synthetic MMKG pair of any size that mimics FB15K/DB15K's shape (for scale benchmarks).

Measured on ``../shared/data/mmkb_offline`` (``benchmarks/scale.py --stats`` prints them again):

=============================  ==========  ==========
                               FB15K       DB15K
=============================  ==========  ==========
entities / relation triples    14,787 / 381k   12,842 / 99k
mean / median / max degree     51.6 / 31 / 9,838   15.4 / 9 / 8,352
degree tail exponent (Hill)    2.75        2.84
relations; Zipf-Mandelbrot     1,056; q=50, s=3.0   279; q=20, s=3.1
attribute triples per entity   2.0         3.7
=============================  ==========  ==========

Construction (all draws from one ``numpy.random.default_rng(seed)``):

1. **KG1**: ``n`` linked entities plus ``distractors·n`` unlinked ones. Each entity gets a weight
   ``w ~ Pareto`` with density tail ``w^-alpha`` (``alpha`` = the measured degree exponent); the
   ``mean_degree·N/2`` triples pick head and tail ∝ ``w`` (Chung-Lu), so degrees are heavy-tailed
   with that exponent, and their relation from ``p_r ∝ (r + q)^-s`` (Zipf-Mandelbrot).
2. **KG2, a perturbed copy**: linked entity ``i`` is ``perm[i]``; every KG1 triple between linked
   entities is kept with probability ``1 - edge_drop``; ``edge_add`` x |KG1 triples| new
   triples are drawn by Chung-Lu over KG2 (so they also reach KG2's own distractors, which get
   fresh weights); relations are renamed, and a share ``relation_merge`` of KG1's relations is
   merged into another KG2 relation (schemas differ in granularity).
3. **Attributes**: each entity has ``Poisson(attrs_per_entity)`` attributes (types Zipf-Mandelbrot
   over ``attributes`` names) with a value ``v = mu_a + sigma_a z``; KG2 keeps each attribute of a
   linked entity with probability ``attr_keep`` and multiplies its value by ``1 + attr_noise·z'``
   (renamed attribute types, unit-free noise); distractors get their own.

The gold links are ``(i, perm[i])`` for all ``n`` linked entities. Entity identifiers are
``A:e<i>`` / ``B:e<j>``; names are empty strings (the name modality has nothing to use).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np

from mimea_core.data.types import KnowledgeGraph, MMKGPair


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters of :func:`synthetic_pair` (defaults: DB15K-like, see the module docstring)."""

    n: int  # linked entities per KG
    seed: int = 0
    distractors: float = 0.1  # unlinked entities per KG, as a share of n
    mean_degree: float = 15.0
    degree_alpha: float = 2.8
    relations: int = 300
    relation_q: float = 20.0
    relation_s: float = 3.0
    relation_merge: float = 0.2
    edge_drop: float = 0.15
    edge_add: float = 0.1
    attributes: int = 100
    attrs_per_entity: float = 3.0
    attr_keep: float = 0.8
    attr_noise: float = 0.05

    def __post_init__(self) -> None:
        if self.n < 2:
            raise ValueError(f"n must be >= 2, got {self.n}")
        if self.degree_alpha <= 2:
            raise ValueError("degree_alpha must be > 2 (a finite mean degree)")


def zipf_mandelbrot(k: int, q: float, s: float) -> np.ndarray:
    """Probabilities ``p_r ∝ (r + q)^-s`` over ranks ``r = 1..k``."""
    p = (np.arange(1, k + 1) + q) ** -s
    return p / p.sum()


def _weights(rng: np.random.Generator, n: int, alpha: float) -> np.ndarray:
    """Pareto weights with density tail ``w^-alpha`` (inverse CDF), normalised to sum 1."""
    w = (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))
    return w / w.sum()


def _chung_lu(rng: np.random.Generator, w: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` (head, tail) pairs with endpoints drawn ∝ ``w``, self loops redrawn once then dropped."""
    cdf = np.cumsum(w)
    cdf[-1] = 1.0
    h = np.searchsorted(cdf, rng.random(m), side="right")
    t = np.searchsorted(cdf, rng.random(m), side="right")
    loop = h == t
    t[loop] = np.searchsorted(cdf, rng.random(int(loop.sum())), side="right")
    keep = h != t
    return h[keep], t[keep]


def _unique_triples(h: np.ndarray, r: np.ndarray, t: np.ndarray) -> np.ndarray:
    return np.unique(np.stack([h, r, t], 1).astype(np.int64), axis=0)


def _attributes(rng, n_ent, spec, p_attr, mu, sigma):
    counts = rng.poisson(spec.attrs_per_entity, n_ent)
    ent = np.repeat(np.arange(n_ent, dtype=np.int64), counts)
    att = rng.choice(spec.attributes, size=len(ent), p=p_attr)
    pairs, first = np.unique(np.stack([ent, att], 1), axis=0, return_index=True)
    del first
    values = mu[pairs[:, 1]] + sigma[pairs[:, 1]] * rng.normal(size=len(pairs))
    return pairs, values


def _kg(name, prefix, n_ent, rel_names, triples, attr_names, attr_pairs, values) -> KnowledgeGraph:
    return KnowledgeGraph(
        name=name,
        entities=[f"{prefix}:e{i}" for i in range(n_ent)],
        names=[""] * n_ent,
        relations=rel_names,
        triples=triples,
        attributes=attr_names,
        attr_triples=attr_pairs.astype(np.int64),
        attr_values=[f"{v:.6g}" for v in values],
        attr_numeric=values.astype(np.float64),
    )


def synthetic_pair(spec: SyntheticSpec) -> MMKGPair:
    """The synthetic pair described in the module docstring (same ``spec`` → same pair)."""
    rng = np.random.default_rng(spec.seed)
    n, d = spec.n, int(round(spec.distractors * spec.n))
    n_ent = n + d
    p_rel = zipf_mandelbrot(spec.relations, spec.relation_q, spec.relation_s)
    p_attr = zipf_mandelbrot(spec.attributes, spec.relation_q, spec.relation_s)

    # KG1
    w1 = _weights(rng, n_ent, spec.degree_alpha)
    m1 = int(spec.mean_degree * n_ent / 2)
    h, t = _chung_lu(rng, w1, m1)
    t1 = _unique_triples(h, rng.choice(spec.relations, size=len(h), p=p_rel), t)

    # KG2: a perturbed copy of the linked part + new triples + its own distractors
    perm = rng.permutation(n)
    to2 = np.concatenate([perm, np.arange(n, n_ent)])  # KG1 id -> KG2 id (distractors: not linked)
    rel_map = rng.permutation(spec.relations)
    merged = rng.random(spec.relations) < spec.relation_merge
    rel_map[merged] = rng.choice(rel_map[~merged], size=int(merged.sum()))
    linked = (t1[:, 0] < n) & (t1[:, 2] < n) & (rng.random(len(t1)) >= spec.edge_drop)
    kept = t1[linked]
    w2 = np.empty(n_ent)
    w2[perm] = w1[:n]
    w2[n:] = _weights(rng, d, spec.degree_alpha) * w1[n:].sum() if d else 0.0
    w2 /= w2.sum()
    touches_distractor = (t1[:, 0] >= n) | (t1[:, 2] >= n)  # as many again for KG2's own distractors
    n_new = int(spec.edge_add * len(t1)) + int(touches_distractor.sum())
    h2, t2 = _chung_lu(rng, w2, n_new)
    triples2 = _unique_triples(
        np.concatenate([to2[kept[:, 0]], h2]),
        np.concatenate([rel_map[kept[:, 1]], rng.choice(spec.relations, size=len(h2), p=p_rel)]),
        np.concatenate([to2[kept[:, 2]], t2]),
    )
    used = np.unique(rel_map)
    relabel = np.full(spec.relations, -1, dtype=np.int64)
    relabel[used] = np.arange(len(used))
    triples2 = triples2[relabel[triples2[:, 1]] >= 0]
    triples2[:, 1] = relabel[triples2[:, 1]]
    triples2 = np.unique(triples2, axis=0)

    # attributes
    mu = rng.normal(0, 100, spec.attributes)
    sigma = np.abs(rng.normal(10, 5, spec.attributes)) + 1
    a1, v1 = _attributes(rng, n_ent, spec, p_attr, mu, sigma)
    att_map = rng.permutation(spec.attributes)
    copy = (a1[:, 0] < n) & (rng.random(len(a1)) < spec.attr_keep)
    a2_copy = np.stack([to2[a1[copy, 0]], att_map[a1[copy, 1]]], 1)
    v2_copy = v1[copy] * (1 + spec.attr_noise * rng.normal(size=int(copy.sum())))
    a2_own, v2_own = _attributes(rng, d, spec, p_attr, mu, sigma)
    a2_own[:, 0] += n
    a2 = np.concatenate([a2_copy, a2_own])
    v2 = np.concatenate([v2_copy, v2_own])
    order = np.lexsort((a2[:, 1], a2[:, 0]))
    a2, v2 = a2[order], v2[order]

    kg1 = _kg("SYN1", "A", n_ent, [f"a:r{i}" for i in range(spec.relations)], t1,
              [f"a:p{i}" for i in range(spec.attributes)], a1, v1)  # fmt: skip
    kg2 = _kg("SYN2", "B", n_ent, [f"b:r{i}" for i in range(len(used))], triples2,
              [f"b:p{i}" for i in range(spec.attributes)], a2, v2)  # fmt: skip
    links = np.stack([np.arange(n), perm], 1).astype(np.int64)
    key = hashlib.sha256(repr(sorted(asdict(spec).items())).encode()).hexdigest()[:16]
    return MMKGPair(
        name=f"SYN-{n}", kg1=kg1, kg2=kg2, links=links, source=f"synthetic:{key}", fingerprint=f"synthetic-{key}"
    )


def degree_stats(kg: KnowledgeGraph) -> dict[str, float]:
    """Mean/median/max degree, Hill tail exponent (top 10%) and the top relation's share of triples."""
    deg = np.bincount(np.concatenate([kg.triples[:, 0], kg.triples[:, 2]]), minlength=kg.num_entities)
    deg = np.sort(deg[deg > 0])[::-1].astype(np.float64)
    k = max(len(deg) // 10, 2)
    hill = 1.0 + k / float(np.sum(np.log(deg[:k] / deg[k])))
    rel = np.bincount(kg.triples[:, 1])
    return {
        "entities": float(kg.num_entities),
        "triples": float(len(kg.triples)),
        "mean_degree": float(deg.mean()),
        "median_degree": float(np.median(deg)),
        "max_degree": float(deg.max()),
        "hill_alpha": hill,
        "top_relation_share": float(rel.max() / rel.sum()),
        "attr_per_entity": float(len(kg.attr_triples) / max(kg.num_entities, 1)),
    }
