"""2-d projections of embedding spaces (UMAP), as records for the embedding map.

UMAP is fitted on both KGs' rows stacked, so the two graphs share one map: aligned entities land
close together when the space aligns them. The vectors are L2-normalised, so the euclidean metric
orders neighbours exactly as cosine does (``|a-b|² = 2 - 2 cos``) and uses numba's fast path.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from mimea_core.embeddings import Embeddings
from mimea_core.errors import ConfigError


def space_matrices(emb: Embeddings, space: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``(X1, X2)`` rows of ``space``: ``"joint"`` or one of ``emb.modalities``."""
    if space == "joint":
        return emb.joint
    if space in emb.per_modality:
        return emb.per_modality[space]
    choices = ", ".join(["joint", *emb.per_modality])
    raise ConfigError(f"unknown embedding space {space!r}; choose one of: {choices}")


def sample_entities(n: int, max_points: int | None, keep: Iterable[int] = (), seed: int = 0) -> np.ndarray:
    """Sorted ids ``0..n-1``, or ``max_points`` of them: ``keep`` first (in its order, so put the
    most important first), the rest drawn at random."""
    if max_points is None or max_points >= n:
        return np.arange(n, dtype=np.int64)
    kept = np.asarray(
        list(dict.fromkeys(int(k) for k in keep if 0 <= int(k) < n))[:max_points], dtype=np.int64
    )
    rest = np.setdiff1d(np.arange(n, dtype=np.int64), kept)
    rng = np.random.default_rng(seed)
    extra = rng.choice(rest, size=max(max_points - len(kept), 0), replace=False)
    return np.sort(np.concatenate([kept, extra]))


def umap_projection(
    emb: Embeddings,
    space: str = "joint",
    seed: int = 0,
    *,
    entities: tuple[np.ndarray, np.ndarray] | None = None,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    n_epochs: int = 200,
) -> pd.DataFrame:
    """UMAP of one space for both KGs: a DataFrame with columns ``x, y, kg (1|2), entity``.

    ``entities`` optionally restricts the map to those local ids of each KG (see
    :func:`sample_entities`); entities without the modality (``emb.present``) are left out of a
    modality's map. Deterministic for a given ``seed``.
    """
    import umap  # imported here: numba compilation costs seconds, only pay it when drawing a map

    X1, X2 = space_matrices(emb, space)
    ids1 = np.arange(len(X1)) if entities is None else np.asarray(entities[0], dtype=np.int64)
    ids2 = np.arange(len(X2)) if entities is None else np.asarray(entities[1], dtype=np.int64)
    if space in emb.present:
        p1, p2 = emb.present[space]
        ids1, ids2 = ids1[np.asarray(p1)[ids1]], ids2[np.asarray(p2)[ids2]]
    X = np.concatenate([X1[ids1], X2[ids2]]).astype(np.float32)
    frame = pd.DataFrame(
        {
            "kg": np.concatenate([np.full(len(ids1), 1), np.full(len(ids2), 2)]).astype(np.int64),
            "entity": np.concatenate([ids1, ids2]).astype(np.int64),
        }
    )
    if len(X) < 4:
        frame["x"], frame["y"] = np.zeros(len(X)), np.zeros(len(X))
        return frame[["x", "y", "kg", "entity"]]
    reducer = umap.UMAP(
        n_neighbors=min(n_neighbors, len(X) - 1),
        min_dist=min_dist,
        n_epochs=n_epochs,
        random_state=seed,
        metric="euclidean",
    )
    xy = reducer.fit_transform(X)
    frame["x"], frame["y"] = xy[:, 0].astype(float), xy[:, 1].astype(float)
    return frame[["x", "y", "kg", "entity"]]
