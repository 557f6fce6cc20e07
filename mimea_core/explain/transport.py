"""Records for the transport-plan heatmap: a block of KG1 entities, their candidate KG2 entities,
and the entropic OT plan between them, with gold and accepted pairs marked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mimea_core.embeddings import Embeddings


@dataclass
class TransportBlock:
    sources: np.ndarray  # KG1 local ids (rows)
    targets: np.ndarray  # KG2 local ids (columns)
    plan: np.ndarray  # (len(sources), len(targets)), rows rescaled to sum to 1
    gold: np.ndarray  # (g, 2) (row, column) positions of gold links inside the block
    accepted: np.ndarray  # (a, 2) positions of accepted pairs inside the block


def block_targets(
    cands: pd.DataFrame, sources: np.ndarray, links: np.ndarray, max_targets: int
) -> np.ndarray:
    """KG2 entities for a block: the sources' gold targets, then their candidates by rank, capped."""
    sources = np.asarray(sources, dtype=np.int64)
    gold = links[np.isin(links[:, 0], sources), 1] if len(links) else np.zeros(0, np.int64)
    ranked = cands[cands["source"].isin(sources)].sort_values(["rank", "score"], ascending=[True, False])
    ordered = list(dict.fromkeys([*gold.tolist(), *ranked["target"].astype(int).tolist()]))
    return np.asarray(ordered[:max_targets], dtype=np.int64)


def _positions(pairs: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    row_of = {int(s): i for i, s in enumerate(rows)}
    col_of = {int(t): j for j, t in enumerate(cols)}
    pos = [
        (row_of[int(s)], col_of[int(t)])
        for s, t in np.asarray(pairs).reshape(-1, 2)
        if int(s) in row_of and int(t) in col_of
    ]
    return np.asarray(pos, dtype=np.int64).reshape(-1, 2)


def transport_block(
    emb: Embeddings,
    sources: np.ndarray,
    targets: np.ndarray,
    *,
    gold: np.ndarray | None = None,
    accepted: np.ndarray | None = None,
    reg: float = 0.05,
    space: str = "joint",
) -> TransportBlock:
    """OT plan between the chosen KG1 ``sources`` and KG2 ``targets`` in one embedding space."""
    from mimea_core.alignment import transport_plan
    from mimea_core.explain.projection import space_matrices

    X1, X2 = space_matrices(emb, space)
    sources = np.asarray(sources, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    plan = transport_plan(X1[sources], X2[targets], reg=reg) * len(sources)
    empty = np.zeros((0, 2), dtype=np.int64)
    return TransportBlock(
        sources=sources,
        targets=targets,
        plan=plan,
        gold=_positions(gold if gold is not None else empty, sources, targets),
        accepted=_positions(accepted if accepted is not None else empty, sources, targets),
    )
