"""Seed/valid/test splits of the gold links."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from mimea_core.data.types import MMKGPair, Split
from mimea_core.errors import ConfigError

MIN_RATIO, MAX_RATIO = 0.01, 0.8


def link_groups(links: np.ndarray) -> np.ndarray:
    """Group label per link row: rows sharing a KG1 or a KG2 entity (one-to-many links) share a group."""
    k = len(links)
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    n1 = int(links[:, 0].max()) + 1
    # bipartite graph: link rows 0..k-1, KG1 entities k..k+n1-1, KG2 entities after
    rows = np.concatenate([np.arange(k), np.arange(k)])
    cols = np.concatenate([k + links[:, 0], k + n1 + links[:, 1]])
    size = k + n1 + int(links[:, 1].max()) + 1
    graph = coo_matrix((np.ones(2 * k, dtype=np.int8), (rows, cols)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    return labels[:k]


def make_split(pair: MMKGPair, seed_ratio: float = 0.2, seed: int = 0, valid_fraction: float = 0.1) -> Split:
    """Split ``pair.links`` rows: a ``seed_ratio`` share are seeds, ``valid_fraction`` of those held out.

    Deterministic for a given ``seed``. Rows of a one-to-many group (links sharing an entity) stay
    together in one part, so no test entity is a seed. Train + valid together hold
    ``round(seed_ratio * k)`` rows (give or take a group); valid holds ``round(valid_fraction * seeds)``.
    """
    if not MIN_RATIO <= seed_ratio <= MAX_RATIO:
        raise ConfigError(f"seed ratio {seed_ratio} out of range; expected {MIN_RATIO} to {MAX_RATIO}")
    if not 0.0 <= valid_fraction < 1.0:
        raise ConfigError(f"validation fraction {valid_fraction} out of range; expected 0 to below 1")
    links = np.asarray(pair.links, dtype=np.int64)
    labels = link_groups(links)
    rng = np.random.default_rng(seed)
    groups = rng.permutation(int(labels.max()) + 1 if len(labels) else 0)
    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(len(groups) + 1))
    members = [order[starts[g] : starts[g + 1]] for g in range(len(groups))]
    target_seeds = round(seed_ratio * len(links))
    target_valid = round(valid_fraction * target_seeds)
    train, valid, test = [], [], []
    taken = taken_valid = 0
    for g in groups:
        rows = members[g]
        if taken_valid < target_valid:
            valid.append(rows)
            taken_valid += len(rows)
            taken += len(rows)
        elif taken < target_seeds:
            train.append(rows)
            taken += len(rows)
        else:
            test.append(rows)

    def take(parts: list[np.ndarray]) -> np.ndarray:
        if not parts:
            return np.zeros((0, 2), dtype=np.int64)
        return links[np.sort(np.concatenate(parts))]

    return Split(train=take(train), valid=take(valid), test=take(test), seed_ratio=seed_ratio, seed=seed)
