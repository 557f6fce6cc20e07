"""Sampled neighbourhoods: the graph a mini-batch needs, so a training step does not grow with N.

With ``graph_fanout = k > 0`` a training step does not propagate the whole graph. For the batch
entities ``B`` it keeps, hop by hop for ``L`` hops (``L`` = the number of graph layers), at most ``k``
in-edges of every node reached so far (drawn uniformly, GraphSAGE-style) plus its self loop:

    V_0 = B,   E_l = ∪_{v ∈ V_l \\ V_<l} (self loop of v ∪ sample_k(in-edges of v)),
    V_{l+1} = V_l ∪ src(E_l),

and runs the ``L`` layers on the subgraph ``(V_L, E_0 ∪ … ∪ E_{L-1})``, relabelled to local ids.
The layers' outputs at ``B`` then depend only on sampled paths of length ≤ ``L`` into ``B``, exactly as
in the full graph when no node has more than ``k`` neighbours; attention is normalised over the
sampled in-edges. Per step, nodes are bounded by ``|B|·(1 + k + … + k^L)`` and edges by
``(k + 1)·|B|·(1 + k + … + k^(L-1))`` whatever the size of the graph (the gradient of the free entity
table is still parameter-sized, N × d). Inference (embeddings, validation, pseudo-seeding) still propagates the whole
graph, without gradients.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import torch

from mimea_core.model.inputs import EdgeRelations, rowptr_of


@dataclass(frozen=True)
class EdgeView:
    """A graph in the edge layout the graph layers read (the fields of ``ModelInputs`` they use)."""

    edge_src: torch.Tensor
    edge_dst: torch.Tensor
    edge_deg_weight: torch.Tensor
    csr_rowptr: torch.Tensor
    csc_perm: torch.Tensor
    csc_rowptr: torch.Tensor
    edge_relations: EdgeRelations | None = None  # this view's edges' relation sets


def sample_edges(
    rowptr: np.ndarray, src: np.ndarray, seeds: np.ndarray, hops: int, fanout: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Edge ids (into the dst-sorted edge list) and sorted global node ids of the sampled subgraph.

    ``rowptr``/``src``: CSR by destination (row ``v`` holds ``v``'s in-edges, self loop included).
    """
    expanded = np.zeros(0, dtype=np.int64)
    frontier = np.unique(seeds.astype(np.int64))
    kept: list[np.ndarray] = []
    for _ in range(hops):
        if len(frontier) == 0:
            break
        starts = rowptr[frontier]
        counts = rowptr[frontier + 1] - starts
        total = int(counts.sum())
        group = np.repeat(np.arange(len(frontier)), counts)
        edges = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        is_self = src[edges] == frontier[group]
        keys = np.where(is_self, -1.0, rng.random(total))  # the self loop always comes first
        order = np.lexsort((keys, group))
        first = np.cumsum(counts) - counts
        rank = np.arange(total) - first[group[order]]
        chosen = edges[order][rank <= fanout]  # self loop + at most `fanout` others
        kept.append(chosen)
        expanded = np.union1d(expanded, frontier)
        frontier = np.setdiff1d(np.unique(src[chosen]), expanded, assume_unique=True)
    edge_ids = np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)
    nodes = np.union1d(np.unique(seeds.astype(np.int64)), src[edge_ids])
    return edge_ids, nodes


@dataclass(frozen=True)
class HostGraph:
    """The whole graph's edge layout as host (numpy) arrays, which the sampler indexes.

    Made once per graph (:class:`HostGraphCache`): on CUDA, copying the edge lists to the host on
    every step would cost more than the sampled step itself."""

    rowptr: np.ndarray
    src: np.ndarray
    dst: np.ndarray

    @classmethod
    def of(cls, inputs) -> HostGraph:
        return cls(inputs.csr_rowptr.cpu().numpy(), inputs.edge_src.cpu().numpy(), inputs.edge_dst.cpu().numpy())


class HostGraphCache:
    """The :class:`HostGraph` of the last graph asked for, remade only when the graph tensors change
    (checked by identity through a weak reference, so a new graph is never served stale arrays)."""

    def __init__(self) -> None:
        self._for: weakref.ref | None = None
        self._host: HostGraph | None = None

    def get(self, inputs) -> HostGraph:
        if self._host is None or self._for is None or self._for() is not inputs.edge_src:
            self._host, self._for = HostGraph.of(inputs), weakref.ref(inputs.edge_src)
        return self._host


def sampled_view(
    inputs, ids: torch.Tensor, hops: int, fanout: int, rng: np.random.Generator, host: HostGraph | None = None
) -> tuple[EdgeView, torch.Tensor, torch.Tensor]:
    """``(view, nodes, rows)``: the sampled subgraph of ``ids`` in local ids, the global ids of its
    nodes (sorted) and the local rows of ``ids``. ``host``: ``inputs``' edge layout on the host, if
    the caller keeps one (:class:`HostGraphCache`)."""
    device = ids.device
    host = host or HostGraph.of(inputs)
    rowptr, src_all, dst_all = host.rowptr, host.src, host.dst
    wanted = ids.cpu().numpy()
    edge_ids, nodes = sample_edges(rowptr, src_all, wanted, hops, fanout, rng)
    lsrc = np.searchsorted(nodes, src_all[edge_ids])
    ldst = np.searchsorted(nodes, dst_all[edge_ids])
    order = np.lexsort((lsrc, ldst))
    lsrc, ldst, edge_ids = lsrc[order], ldst[order], edge_ids[order]
    n = len(nodes)
    csc_perm = np.argsort(lsrc, kind="stable")
    global_edges = torch.as_tensor(edge_ids, device=device)
    view = EdgeView(
        edge_src=torch.as_tensor(lsrc, device=device),
        edge_dst=torch.as_tensor(ldst, device=device),
        edge_deg_weight=inputs.edge_deg_weight.index_select(0, global_edges),
        csr_rowptr=torch.as_tensor(rowptr_of(ldst, n), device=device),
        csc_perm=torch.as_tensor(csc_perm, device=device),
        csc_rowptr=torch.as_tensor(rowptr_of(lsrc[csc_perm], n), device=device),
        edge_relations=None if inputs.edge_relations is None else inputs.edge_relations.subset(global_edges),
    )
    rows = torch.as_tensor(np.searchsorted(nodes, wanted), device=device)
    return view, torch.as_tensor(nodes, device=device), rows
