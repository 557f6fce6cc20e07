"""Model inputs built from an :class:`~mimea_core.data.MMKGPair`: graph edges, bags, features, masks.

Both KGs are put in one disjoint graph: KG1 entity ``i`` has global id ``i``, KG2 entity ``j`` has
global id ``n1 + j``. A :class:`Vocab` fixes which relations and attributes are encoded (and how
numeric values are scaled); it is computed once at training time and saved with the run, so that the
same pair gives the same inputs after :func:`mimea_core.runs.load_run`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mimea_core.data.types import KnowledgeGraph, MMKGPair

NUM_QUANTILES = 33  # knots of the per-attribute value quantile map


@dataclass
class Vocab:
    """What the encoders see of a pair; saved as ``vocab.npz`` (string and float arrays only)."""

    num_entities: tuple[int, int]
    relations: tuple[list[str], list[str]]  # kept relation identifiers per KG
    attributes: tuple[list[str], list[str]]  # kept attribute identifiers per KG
    attr_quantiles: tuple[np.ndarray, np.ndarray]  # (A_k, NUM_QUANTILES) value knots per attribute
    feature_dims: dict[str, int] = field(default_factory=dict)  # given features (visual, name)
    value_dim: int = 0  # shared value tokens of the value modality (:mod:`mimea_core.model.values`)
    # local-id seed pairs the structure modality propagates from (:mod:`mimea_core.model.propagation`)
    structure_seeds: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    @property
    def relation_dim(self) -> int:
        """Relation-bag width: (KG1 relations + KG2 relations) x (outgoing, incoming)."""
        return 2 * (len(self.relations[0]) + len(self.relations[1]))

    @property
    def edge_relation_dim(self) -> int:
        """Edge-relation ids: the relation-bag columns, then "a relation not kept", then "self loop"."""
        return self.relation_dim + 2

    @property
    def attribute_dim(self) -> int:
        """Attribute input width: type bag + scaled value, per kept attribute of either KG."""
        return 2 * (len(self.attributes[0]) + len(self.attributes[1]))

    def save(self, path: Path) -> None:
        arrays = {
            "num_entities": np.asarray(self.num_entities, dtype=np.int64),
            "relations1": np.asarray(self.relations[0], dtype=np.str_),
            "relations2": np.asarray(self.relations[1], dtype=np.str_),
            "attributes1": np.asarray(self.attributes[0], dtype=np.str_),
            "attributes2": np.asarray(self.attributes[1], dtype=np.str_),
            "attr_quantiles1": self.attr_quantiles[0],
            "attr_quantiles2": self.attr_quantiles[1],
            "feature_names": np.asarray(list(self.feature_dims), dtype=np.str_),
            "feature_dims": np.asarray(list(self.feature_dims.values()), dtype=np.int64),
            "value_dim": np.asarray(self.value_dim, dtype=np.int64),
            "structure_seeds": np.asarray(self.structure_seeds, dtype=np.int64).reshape(-1, 2),
        }
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> Vocab:
        with np.load(path, allow_pickle=False) as z:
            n = z["num_entities"]
            return cls(
                num_entities=(int(n[0]), int(n[1])),
                relations=(z["relations1"].tolist(), z["relations2"].tolist()),
                attributes=(z["attributes1"].tolist(), z["attributes2"].tolist()),
                attr_quantiles=(z["attr_quantiles1"], z["attr_quantiles2"]),
                feature_dims=dict(
                    zip(z["feature_names"].tolist(), (int(x) for x in z["feature_dims"]), strict=True)
                ),
                value_dim=int(z["value_dim"]) if "value_dim" in z else 0,
                structure_seeds=z["structure_seeds"] if "structure_seeds" in z else np.zeros((0, 2), np.int64),
            )


@dataclass
class ModelInputs:
    """Tensors the model consumes, on one device. ``N = n1 + n2`` global entities.

    ``edge_src``/``edge_dst`` are sorted by destination (self loops and both directions included);
    ``csr_*`` hold the same edges as CSR rows (by destination) and the transposed order (by source)
    for the edge-list message passing in :mod:`mimea_core.model.gat`.
    """

    num_entities: tuple[int, int]
    edge_src: torch.Tensor
    edge_dst: torch.Tensor
    edge_deg_weight: torch.Tensor  # 1/sqrt(deg_src deg_dst) per edge (GCN weights)
    csr_rowptr: torch.Tensor
    csc_perm: torch.Tensor  # edge order sorted by source
    csc_rowptr: torch.Tensor
    relation_bag: SparseRows  # (N, relation_dim)
    attribute_input: SparseRows  # (N, attribute_dim)
    features: dict[str, torch.Tensor]  # modality -> (N, d) dense given features (visual, name)
    present: dict[str, torch.Tensor]  # modality -> (N,) bool
    value_bag: SparseRows | None = None  # (N, value_dim) shared value tokens (value modality)
    # each edge's (relation, direction) ids, for relation-aware graph attention (graph_encoder
    # "rgat"); None for inputs built without them
    edge_relations: EdgeRelations | None = None

    @property
    def total(self) -> int:
        return self.num_entities[0] + self.num_entities[1]


def _top_ids(ids: np.ndarray, names: list[str], k: int) -> list[str]:
    counts = Counter(ids.tolist())
    kept = sorted(counts, key=lambda i: (-counts[i], i))[:k]
    return [names[i] for i in sorted(kept)]


def _quantile_knots(kg: KnowledgeGraph, kept: list[str]) -> np.ndarray:
    """Per kept attribute, NUM_QUANTILES quantiles of its numeric values (NaN row if none)."""
    index = {a: i for i, a in enumerate(kg.attributes)}
    knots = np.full((len(kept), NUM_QUANTILES), np.nan, dtype=np.float64)
    if len(kg.attr_triples) == 0:
        return knots
    attr_ids = kg.attr_triples[:, 1]
    values = np.asarray(kg.attr_numeric, dtype=np.float64)
    for row, name in enumerate(kept):
        v = values[(attr_ids == index[name]) & np.isfinite(values)]
        if len(v):
            knots[row] = np.quantile(v, np.linspace(0, 1, NUM_QUANTILES))
    return knots


def build_vocab(pair: MMKGPair, relation_topk: int, attribute_topk: int) -> Vocab:
    rels = tuple(
        _top_ids(kg.triples[:, 1], kg.relations, relation_topk) if len(kg.triples) else []
        for kg in (pair.kg1, pair.kg2)
    )
    attrs = tuple(
        _top_ids(kg.attr_triples[:, 1], kg.attributes, attribute_topk) if len(kg.attr_triples) else []
        for kg in (pair.kg1, pair.kg2)
    )
    quant = (_quantile_knots(pair.kg1, attrs[0]), _quantile_knots(pair.kg2, attrs[1]))
    dims: dict[str, int] = {}
    for kg in (pair.kg1, pair.kg2):
        for name, feats in kg.features.items():
            if feats.mask.any():
                dims[name] = max(dims.get(name, 0), feats.dim)
    from mimea_core.model.values import value_bag

    return Vocab(
        num_entities=(pair.kg1.num_entities, pair.kg2.num_entities),
        relations=rels,  # type: ignore[arg-type]
        attributes=attrs,  # type: ignore[arg-type]
        attr_quantiles=quant,
        feature_dims=dims,
        value_dim=value_bag(pair)[3],
    )


def _graph_edges(pair: MMKGPair) -> tuple[np.ndarray, np.ndarray]:
    """Unique undirected entity pairs of both KGs (global ids) plus self loops, sorted by dst."""
    n1 = pair.kg1.num_entities
    n = n1 + pair.kg2.num_entities
    parts = []
    for kg, off in ((pair.kg1, 0), (pair.kg2, n1)):
        if len(kg.triples):
            h = kg.triples[:, 0].astype(np.int64) + off
            t = kg.triples[:, 2].astype(np.int64) + off
            parts.append(np.stack([h, t], 1))
            parts.append(np.stack([t, h], 1))
    loops = np.arange(n, dtype=np.int64)
    edges = np.concatenate(parts) if parts else np.zeros((0, 2), dtype=np.int64)
    edges = edges[edges[:, 0] != edges[:, 1]]
    key = np.unique(edges[:, 1] * n + edges[:, 0])  # unique, sorted by (dst, src)
    src, dst = key % n, key // n
    src = np.concatenate([src, loops])
    dst = np.concatenate([dst, loops])
    order = np.lexsort((src, dst))
    return src[order], dst[order]


def _kept_relation_lookup(kg, kept: list[str]) -> np.ndarray:
    """KG relation id -> index in ``kept`` (-1: not kept)."""
    lookup = np.full(max(kg.num_relations, 1), -1, dtype=np.int64)
    name_index = {r: i for i, r in enumerate(kg.relations)}
    for j, r in enumerate(kept):
        if r in name_index:
            lookup[name_index[r]] = j
    return lookup


def _triple_columns(pair: MMKGPair, vocab: Vocab):
    """Per KG with triples: global heads, tails and the relation-bag columns of each triple's
    relation as the head's outgoing and the tail's incoming one (-1 where the relation is not kept)."""
    n1 = pair.kg1.num_entities
    col_off = 0
    for kg, off, kept in ((pair.kg1, 0, vocab.relations[0]), (pair.kg2, n1, vocab.relations[1])):
        if len(kg.triples):
            rel = _kept_relation_lookup(kg, kept)[kg.triples[:, 1]]
            out_col = np.where(rel >= 0, col_off + rel, -1)
            in_col = np.where(rel >= 0, col_off + len(kept) + rel, -1)
            yield kg.triples[:, 0].astype(np.int64) + off, kg.triples[:, 2].astype(np.int64) + off, out_col, in_col
        col_off += 2 * len(kept)


def _edge_relations(pair: MMKGPair, vocab: Vocab, src: np.ndarray, dst: np.ndarray):
    """Sorted unique ``(edge, relation id)`` pairs of the merged edges ``(src, dst)`` (sorted by ``dst * N + src``).

    The edge ``h -> t`` of a triple ``(h, r, t)`` carries ``r`` as one of ``t``'s incoming relations,
    the edge ``t -> h`` as one of ``h``'s outgoing ones: the relation-bag columns (``_triple_columns``).
    A relation outside the vocabulary gets id ``relation_dim``; self loops ``relation_dim + 1``.
    """
    n = pair.kg1.num_entities + pair.kg2.num_entities
    keys = dst * n + src
    edges, ids = [], []
    for h, t, out_col, in_col in _triple_columns(pair, vocab):
        ok = h != t
        h, t = h[ok], t[ok]
        edges += [np.searchsorted(keys, t * n + h), np.searchsorted(keys, h * n + t)]
        ids += [np.where(in_col[ok] >= 0, in_col[ok], vocab.relation_dim),
                np.where(out_col[ok] >= 0, out_col[ok], vocab.relation_dim)]  # fmt: skip
    loops = np.flatnonzero(src == dst)
    edges.append(loops)
    ids.append(np.full(len(loops), vocab.relation_dim + 1, dtype=np.int64))
    return np.unique(np.stack([np.concatenate(edges), np.concatenate(ids)], 1), axis=0)


def _relation_sets(pairs: np.ndarray, num_edges: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct relation sets of sorted ``(edge, id)`` ``pairs``: COO (set, id, 1/|set|) and
    each edge's set. Exact: edges are grouped by set size and each group deduplicated as a matrix."""
    counts = np.bincount(pairs[:, 0], minlength=num_edges)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    of_edge = np.zeros(num_edges, dtype=np.int64)
    rows, cols, vals = [], [], []
    offset = 0
    for size in np.unique(counts[counts > 0]):
        edges = np.flatnonzero(counts == size)
        members = pairs[first[edges][:, None] + np.arange(size)[None, :], 1]  # (edges, size), sorted ids
        sets, inverse = np.unique(members, axis=0, return_inverse=True)
        of_edge[edges] = offset + inverse.reshape(-1)
        rows.append(np.repeat(offset + np.arange(len(sets)), size))
        cols.append(sets.reshape(-1))
        vals.append(np.full(sets.size, 1.0 / size, dtype=np.float32))
        offset += len(sets)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals), of_edge


def _relation_bag(pair: MMKGPair, vocab: Vocab) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO (rows, cols, values): log(1 + count) of (relation, direction), rows L2-normalised."""
    rows, cols = [], []
    for h, t, out_col, in_col in _triple_columns(pair, vocab):
        ok = out_col >= 0
        if ok.any():
            rows += [h[ok], t[ok]]
            cols += [out_col[ok], in_col[ok]]
    return _normalised_counts(rows, cols)


def _normalised_counts(rows: list[np.ndarray], cols: list[np.ndarray]):
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    r = np.concatenate(rows).astype(np.int64)
    c = np.concatenate(cols).astype(np.int64)
    key, counts = np.unique(np.stack([r, c], 1), axis=0, return_counts=True)
    vals = np.log1p(counts).astype(np.float64)
    norms = np.zeros(int(key[:, 0].max()) + 1)
    np.add.at(norms, key[:, 0], vals**2)
    vals = vals / np.sqrt(norms[key[:, 0]])
    return key[:, 0], key[:, 1], vals.astype(np.float32)


def _attribute_input(pair: MMKGPair, vocab: Vocab) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """COO of [type bag (L2-normalised) | value in [-1, 1] by the attribute's quantiles]."""
    n1 = pair.kg1.num_entities
    total_attrs = len(vocab.attributes[0]) + len(vocab.attributes[1])
    rows, cols, vals = [], [], []
    col_off = 0
    for side, (kg, off) in enumerate(((pair.kg1, 0), (pair.kg2, n1))):
        kept = vocab.attributes[side]
        knots = vocab.attr_quantiles[side]
        if len(kg.attr_triples) and kept:
            name_index = {a: i for i, a in enumerate(kg.attributes)}
            lookup = np.full(max(kg.num_attributes, 1), -1, dtype=np.int64)
            for j, a in enumerate(kept):
                if a in name_index:
                    lookup[name_index[a]] = j
            att = lookup[kg.attr_triples[:, 1]]
            ok = att >= 0
            ent = kg.attr_triples[ok, 0] + off
            att = att[ok]
            r, c, v = _normalised_counts([ent], [col_off + att])
            rows.append(r)
            cols.append(c)
            vals.append(v)
            numeric = np.asarray(kg.attr_numeric, dtype=np.float64)[ok]
            fin = np.isfinite(numeric)
            if fin.any():
                scaled = np.empty(int(fin.sum()))
                for j in np.unique(att[fin]):
                    sel = att[fin] == j
                    kn = knots[j]
                    if np.isfinite(kn).all():
                        scaled[sel] = np.interp(numeric[fin][sel], kn, np.linspace(-1, 1, NUM_QUANTILES))
                    else:
                        scaled[sel] = 0.0
                e, a = ent[fin], att[fin]
                # one value per (entity, attribute): the mean when an attribute repeats
                key, inv = np.unique(np.stack([e, a], 1), axis=0, return_inverse=True)
                sums = np.zeros(len(key))
                cnt = np.zeros(len(key))
                np.add.at(sums, inv.ravel(), scaled)
                np.add.at(cnt, inv.ravel(), 1)
                rows.append(key[:, 0])
                cols.append(total_attrs + col_off + key[:, 1])
                vals.append((sums / cnt).astype(np.float32))
        col_off += len(kept)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)


@dataclass
class SparseRows:
    """A fixed sparse matrix in CSR form whose row subsets are multiplied by a weight matrix.

    ``matmul(W, ids)`` = ``X[ids] @ W`` via ``embedding_bag`` (sum of weighted rows of ``W``): the
    cost is proportional to the nonzeros of the selected rows only, so a training step encodes just
    the batch's entities.
    """

    rowptr: torch.Tensor  # (N + 1,)
    cols: torch.Tensor  # (nnz,)
    vals: torch.Tensor  # (nnz,)
    shape: tuple[int, int]

    @classmethod
    def from_coo(cls, rows, cols, vals, shape, device) -> SparseRows:
        order = np.lexsort((cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        return cls(
            rowptr=torch.as_tensor(rowptr_of(rows.astype(np.int64), shape[0]), device=device),
            cols=torch.as_tensor(cols.astype(np.int64), device=device),
            vals=torch.as_tensor(vals.astype(np.float32), device=device),
            shape=shape,
        )

    def matmul(self, weight: torch.Tensor, ids: torch.Tensor | None = None) -> torch.Tensor:
        if ids is None:
            offsets = self.rowptr[:-1]
            return F.embedding_bag(self.cols, weight, offsets, mode="sum", per_sample_weights=self.vals)
        starts = self.rowptr.index_select(0, ids)
        lens = self.rowptr.index_select(0, ids + 1) - starts
        offsets = torch.cumsum(lens, 0) - lens
        total = int(lens.sum())
        pos = torch.repeat_interleave(starts - offsets, lens, output_size=total) + torch.arange(
            total, device=ids.device
        )
        return F.embedding_bag(
            self.cols.index_select(0, pos), weight, offsets, mode="sum", per_sample_weights=self.vals.index_select(0, pos)
        )

    def to_dense(self) -> torch.Tensor:
        rows = torch.repeat_interleave(torch.arange(self.shape[0], device=self.cols.device), self.rowptr.diff())
        out = torch.zeros(self.shape, device=self.cols.device)
        out[rows, self.cols] = self.vals
        return out


@dataclass
class EdgeRelations:
    """Each edge's (relation, direction) ids, held as one of ``C`` distinct relation *sets*.

    Most edges carry one relation and many edges share a set, so the per-edge mean of a relation
    table ``q`` (R, H) is ``(S q)[set(e)]``: a (C × R) sparse product and one gather of E rows,
    instead of a bag over every edge (measured ~0.8 s per layer and step at FB15K-DB15K's 1.3M edges).
    """

    sets: SparseRows  # (C, R): each distinct set, 1/|set| per member (a mean)
    of_edge: torch.Tensor  # (E,) the set of each edge

    @classmethod
    def build(cls, pairs: np.ndarray, num_edges: int, num_ids: int, device) -> EdgeRelations:
        """From sorted unique ``(edge, id)`` pairs (every edge has at least one id)."""
        rows, cols, vals, of_edge = _relation_sets(pairs, num_edges)
        sets = SparseRows.from_coo(rows, cols, vals, (int(rows.max()) + 1 if len(rows) else 0, num_ids), device)
        return cls(sets, torch.as_tensor(of_edge, device=device))

    def mean(self, weight: torch.Tensor) -> torch.Tensor:
        """(E, H): per edge, the mean of ``weight``'s rows over the edge's ids."""
        return self.sets.matmul(weight).index_select(0, self.of_edge)

    def subset(self, edge_ids: torch.Tensor) -> EdgeRelations:
        """The same sets for the edges ``edge_ids`` (a sampled subgraph), in that order."""
        return EdgeRelations(self.sets, self.of_edge.index_select(0, edge_ids))


def rowptr_of(sorted_ids: np.ndarray, n: int) -> np.ndarray:
    """CSR row pointers (n + 1,) of row ids sorted ascending."""
    return np.concatenate([[0], np.cumsum(np.bincount(sorted_ids, minlength=n))]).astype(np.int64)


def build_inputs(
    pair: MMKGPair,
    vocab: Vocab,
    device: torch.device | str = "cpu",
    extra_features: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] | None = None,
    edge_relations: bool = True,
) -> ModelInputs:
    """Tensors for ``pair`` under ``vocab``.

    ``edge_relations``: also build each edge's relation set (what relation-aware attention reads).

    ``extra_features``: modality -> (X1, mask1, X2, mask2) computed outside the pair (the name
    modality's sentence embeddings); ``pair.kgX.features`` supply the others (visual).
    """
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    n = n1 + n2
    src, dst = _graph_edges(pair)
    deg = np.bincount(dst, minlength=n).astype(np.float64)
    w = 1.0 / np.sqrt(deg[src] * deg[dst])
    csc_perm = np.argsort(src, kind="stable")

    present: dict[str, torch.Tensor] = {"graph": torch.ones(n, dtype=torch.bool)}
    rr, rc, rv = _relation_bag(pair, vocab)
    rel_present = np.zeros(n, dtype=bool)
    rel_present[rr] = True
    present["relation"] = torch.as_tensor(rel_present)
    ar, ac, av = _attribute_input(pair, vocab)
    att_present = np.zeros(n, dtype=bool)
    att_present[ar] = True
    present["attribute"] = torch.as_tensor(att_present)

    features: dict[str, torch.Tensor] = {}
    sources: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, dim in vocab.feature_dims.items():
        parts = []
        for kg in (pair.kg1, pair.kg2):
            f = kg.features.get(name)
            if f is None:
                parts += [np.zeros((kg.num_entities, dim), np.float32), np.zeros(kg.num_entities, bool)]
            else:
                x = np.zeros((kg.num_entities, dim), np.float32)
                x[:, : f.dim] = f.matrix[:, :dim]
                parts += [x, np.asarray(f.mask, bool)]
        sources[name] = (parts[0], parts[1], parts[2], parts[3])
    sources.update(extra_features or {})
    for name, (x1, m1, x2, m2) in sources.items():
        x = np.concatenate([x1, x2]).astype(np.float32)
        m = np.concatenate([m1, m2]).astype(bool)
        x[~m] = 0.0
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        x = x / np.maximum(norms, 1e-12)
        features[name] = torch.as_tensor(x, device=device)
        present[name] = torch.as_tensor(m)

    value = None
    if vocab.value_dim:
        from mimea_core.model.values import value_inputs

        value, present["value"] = value_inputs(pair, device)
    return ModelInputs(
        num_entities=(n1, n2),
        edge_src=torch.as_tensor(src, device=device),
        edge_dst=torch.as_tensor(dst, device=device),
        edge_deg_weight=torch.as_tensor(w.astype(np.float32), device=device),
        csr_rowptr=torch.as_tensor(rowptr_of(dst, n), device=device),
        csc_perm=torch.as_tensor(csc_perm, device=device),
        csc_rowptr=torch.as_tensor(rowptr_of(src[csc_perm], n), device=device),
        relation_bag=SparseRows.from_coo(rr, rc, rv, (n, max(vocab.relation_dim, 1)), device),
        attribute_input=SparseRows.from_coo(ar, ac, av, (n, max(vocab.attribute_dim, 1)), device),
        features=features,
        present={k: v.to(device) for k, v in present.items()},
        value_bag=value,
        edge_relations=EdgeRelations.build(_edge_relations(pair, vocab, src, dst), len(src),
                                           vocab.edge_relation_dim, device) if edge_relations else None,  # fmt: skip
    )
