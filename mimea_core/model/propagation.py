"""Training-free structural channel: three-view label propagation (after LightEA, Mao et al. 2022).

Both KGs form one graph (global ids as in :mod:`mimea_core.model.inputs`); relations of the two
KGs stay distinct, each with an inverse (``2r``: forward, ``2r + 1``: inverse). Every seed pair
``(i, j)`` gets one random unit label vector ``l`` (``ent_dim`` wide, near-orthogonal to the others),
written to both entities; all other entities and every relation start at zero. ``depth`` rounds of

.. math::

    e^{k+1} = \\mathrm{norm}(A_{ee} e^k + A_{er} r^k), \\qquad r^{k+1} = \\mathrm{norm}(A_{re} e^k)

spread the labels over three views: entity-entity (row-normalised triple counts, with self loops
weighted by the entity's degree, so an entity keeps half of its own label), entity-relation (mean of
the relations touching the entity) and relation-entity (mean of a relation's head entities). The
*entity view* is ``norm([e^0 | ... | e^depth])``. The *relational view* encodes each neighbourhood
edge by the relations on it: the relation features ``r = norm([r^0 | ... | r^depth])`` are randomly
projected to ``rel_heads`` values, an edge ``(h, t)`` gets ``w_ht = sum_{r in R(h,t)} P r_r``, and head
``k`` aggregates ``sum_t w_ht[k] · Q_k e_t`` with its own random projection ``Q_k`` to ``head_dim``
features; the view is ``norm`` of the ``rel_heads x head_dim`` concatenation.

Nothing is learned: the cost is a handful of sparse products (a few seconds on FB15K-DB15K), which
makes the channel usable for bootstrapping (:mod:`mimea_core.training.bootstrap`) and as a fixed
input modality (``structure``) of the learned model. Only the seeds given are used — callers pass
training seeds (and pseudo-seeds), never validation or test links.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import MMKGPair
from mimea_core.model.inputs import Vocab
from mimea_core.model.visual import FeatureEncoder

VIEWS = ("both", "entity", "relational")


@dataclass(frozen=True)
class PropagationSettings:
    ent_dim: int = 256  # width of the random seed labels
    depth: int = 2  # propagation rounds
    rel_heads: int = 64  # relation-signature heads of the relational view
    head_dim: int = 16  # features per head
    views: str = "both"  # which views form the output
    seed: int = 0

    @property
    def out_dim(self) -> int:
        ent = self.ent_dim * (self.depth + 1)
        rel = self.rel_heads * self.head_dim
        return {"both": ent + rel, "entity": ent, "relational": rel}[self.views]


@dataclass
class StructureGraph:
    """Sparse views of both KGs as one graph (torch CSR, float32)."""

    num_entities: tuple[int, int]
    num_relations: int  # with inverses
    ent_ent: torch.Tensor  # (N, N) row-normalised, self loops included
    ent_rel: torch.Tensor  # (N, R) row-normalised
    rel_ent: torch.Tensor  # (R, N) row-normalised
    tuple_rel: torch.Tensor  # (T, R) 0/1: relations on each directed entity tuple
    tuple_src: np.ndarray  # (T,) head of each tuple (sorted)
    tuple_dst: np.ndarray  # (T,) tail of each tuple

    @property
    def total(self) -> int:
        return self.num_entities[0] + self.num_entities[1]


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    coo = torch.sparse_coo_tensor(
        torch.as_tensor(np.stack([rows, cols]), dtype=torch.long),
        torch.as_tensor(vals, dtype=torch.float32),
        shape,
    ).coalesce()
    return coo.to_sparse_csr()


def _row_normalised(
    rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int]
) -> torch.Tensor:
    sums = np.bincount(rows, weights=vals, minlength=shape[0])
    return _csr(rows, cols, vals / np.maximum(sums[rows], 1e-12), shape)


def build_structure_graph(pair: MMKGPair) -> StructureGraph:
    """The three views (and the relation-labelled tuples) of ``pair``'s relation triples."""
    n1 = pair.kg1.num_entities
    n = n1 + pair.kg2.num_entities
    parts = []
    rel_off = 0
    for kg, off in ((pair.kg1, 0), (pair.kg2, n1)):
        if len(kg.triples):
            h = kg.triples[:, 0].astype(np.int64) + off
            r = kg.triples[:, 1].astype(np.int64) + rel_off
            t = kg.triples[:, 2].astype(np.int64) + off
            parts.append(np.stack([h, t, 2 * r], 1))
            parts.append(np.stack([t, h, 2 * r + 1], 1))
        rel_off += kg.num_relations
    num_rel = max(2 * rel_off, 1)
    trip = np.unique(np.concatenate(parts), axis=0) if parts else np.zeros((0, 3), np.int64)
    trip = trip[trip[:, 0] != trip[:, 1]]
    h, t, r = trip[:, 0], trip[:, 1], trip[:, 2]
    # entity-entity: count of relations per (h, t); self loop = number of triples touching the entity
    loops = np.bincount(np.concatenate([h, t]), minlength=n).astype(np.float64)
    ee_rows = np.concatenate([h, np.arange(n)])
    ee_cols = np.concatenate([t, np.arange(n)])
    ee_vals = np.concatenate([np.ones(len(h)), np.maximum(loops, 1.0)])
    ent_ent = _row_normalised(ee_rows, ee_cols, ee_vals, (n, n))  # duplicates summed by coalesce
    er = np.unique(np.stack([t, r], 1), axis=0)
    ent_rel = _row_normalised(er[:, 0], er[:, 1], np.ones(len(er)), (n, num_rel))
    re_ = np.unique(np.stack([r, h], 1), axis=0)
    rel_ent = _row_normalised(re_[:, 0], re_[:, 1], np.ones(len(re_)), (num_rel, n))
    key = h * n + t
    tuples, tuple_index = np.unique(key, return_inverse=True)
    tuple_rel = _csr(tuple_index.ravel(), r, np.ones(len(r)), (len(tuples), num_rel))
    return StructureGraph(
        num_entities=(n1, n - n1),
        num_relations=num_rel,
        ent_ent=ent_ent,
        ent_rel=ent_rel,
        rel_ent=rel_ent,
        tuple_rel=tuple_rel,
        tuple_src=(tuples // n).astype(np.int64),
        tuple_dst=(tuples % n).astype(np.int64),
    )


def _random_projection(in_dim: int, out_dim: int, gen: torch.Generator) -> torch.Tensor:
    """(in_dim, out_dim) Gaussian map whose rows are unit vectors."""
    return F.normalize(torch.randn(in_dim, out_dim, generator=gen), dim=1)


def propagate(graph: StructureGraph, seeds: np.ndarray, settings: PropagationSettings) -> torch.Tensor:
    """(N, settings.out_dim) L2-normalised structural features from global-id seed pairs ``seeds`` (k, 2)."""
    gen = torch.Generator().manual_seed(settings.seed)
    n = graph.total
    seeds = np.asarray(seeds, dtype=np.int64).reshape(-1, 2)
    labels = F.normalize(torch.randn(len(seeds), settings.ent_dim, generator=gen), dim=1)
    e = torch.zeros(n, settings.ent_dim)
    if len(seeds):
        e[torch.as_tensor(seeds[:, 0])] = labels
        e[torch.as_tensor(seeds[:, 1])] = labels
    r = torch.zeros(graph.num_relations, settings.ent_dim)
    ents, rels = [e], [r]
    for _ in range(settings.depth):
        r_next = F.normalize(graph.rel_ent @ e, dim=1)
        e = F.normalize(graph.ent_ent @ e + graph.ent_rel @ r, dim=1)
        r = r_next
        ents.append(e)
        rels.append(r)
    views = []
    ent_view = F.normalize(torch.cat(ents, 1), dim=1)
    if settings.views in ("both", "entity"):
        views.append(ent_view)
    if settings.views in ("both", "relational"):
        views.append(_relational_view(graph, ent_view, F.normalize(torch.cat(rels, 1), dim=1), settings, gen))
    out = torch.cat(views, 1) if len(views) > 1 else views[0]
    return F.normalize(out, dim=1)


def _relational_view(
    graph: StructureGraph,
    ent: torch.Tensor,
    rel: torch.Tensor,
    settings: PropagationSettings,
    gen: torch.Generator,
) -> torch.Tensor:
    n = graph.total
    rel_proj = rel @ _random_projection(rel.shape[1], settings.rel_heads, gen)  # (R, heads)
    weights = graph.tuple_rel @ rel_proj  # (T, heads): relation signature of every tuple
    dst = torch.as_tensor(graph.tuple_dst)
    rowptr = torch.as_tensor(np.concatenate([[0], np.cumsum(np.bincount(graph.tuple_src, minlength=n))]))
    out = torch.empty(n, settings.rel_heads * settings.head_dim)
    for k in range(settings.rel_heads):
        q = ent @ _random_projection(ent.shape[1], settings.head_dim, gen)
        a = torch.sparse_csr_tensor(rowptr, dst, weights[:, k].contiguous(), (n, n))
        out[:, k * settings.head_dim : (k + 1) * settings.head_dim] = a @ q
    return F.normalize(out, dim=1)


def structure_features(
    pair: MMKGPair,
    seeds: np.ndarray,
    settings: PropagationSettings,
    graph: StructureGraph | None = None,
    folds: int = 5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X1, mask1, X2, mask2)`` of the ``structure`` modality for local-id seed pairs ``seeds``.

    A seed's own label would make its two sides identical (a shortcut the learned model fits on the
    seeds and cannot use on unseen entities), so the seeds are cut into ``folds`` random folds and
    the rows of a fold's entities come from propagating the *other* folds' labels only; every other
    entity gets the propagation of all seeds. ``folds=1`` keeps the seeds' own labels.
    """
    graph = graph or build_structure_graph(pair)
    n1 = pair.kg1.num_entities
    glob = np.asarray(seeds, dtype=np.int64).reshape(-1, 2) + np.array([0, n1])
    x = propagate(graph, glob, settings).numpy()
    if folds > 1 and len(glob) >= folds:
        fold = np.random.default_rng(settings.seed).permutation(len(glob)) % folds
        for k in range(folds):
            rows = glob[fold == k].ravel()
            x[rows] = propagate(graph, glob[fold != k], settings).numpy()[rows]
    has = np.zeros(graph.total, dtype=bool)
    has[graph.tuple_src] = True
    return x[:n1], has[:n1], x[n1:], has[n1:]


class StructureEncoder(FeatureEncoder):
    """The structure modality: a linear map (random and frozen by default, ``structure_frozen``) of
    :func:`structure_features` propagated from the run's training seeds (``vocab.structure_seeds``)."""

    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> StructureEncoder:
        enc = cls("structure", PropagationSettings().out_dim, config.dim)
        enc.weight.requires_grad_(not config.structure_frozen)
        return enc

    @classmethod
    def input_features(
        cls, pair: MMKGPair, vocab: Vocab | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        seeds = vocab.structure_seeds if vocab is not None else np.zeros((0, 2), np.int64)
        return structure_features(pair, seeds, PropagationSettings())
