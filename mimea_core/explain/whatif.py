"""What-if: re-run inference with one modality of some entities changed, and compare.

:func:`whatif` embeds the pair again with a :class:`~mimea_core.inference.ModalityOverride`
(drop / scale / replace one modality of chosen entities) and returns the fusion weights before and
after and, for KG1 entities, their candidate ranking before and after.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.data.types import MMKGPair
from mimea_core.embeddings import Embeddings
from mimea_core.explain.modalities import _side
from mimea_core.model import MIMEAModel


def whatif(
    model: MIMEAModel,
    pair: MMKGPair,
    base: Embeddings,
    *,
    kg: int,
    entities: np.ndarray,
    modality: str,
    mode: str,
    scale: float = 1.0,
    seed_pairs: np.ndarray | None = None,
    top_k: int = 10,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(weights before/after, ranking before/after) of an override of ``modality`` on ``entities``.

    ``base`` are the unchanged embeddings; ``seed_pairs`` (k, 2) known pairs whose KG2 side is left
    out of the rankings (as in the candidate lists). The ranking is empty for KG2 entities.
    """
    from mimea_core.candidates import suggest
    from mimea_core.inference import ModalityOverride, embed

    entities = np.asarray(entities, dtype=np.int64)
    override = ModalityOverride(kg=kg, entities=entities, modality=modality, mode=mode, scale=scale)
    changed = embed(model, pair, overrides=(override,))
    weights = whatif_weights(base, changed, kg, entities)
    ranking = pd.DataFrame()
    if kg == 1:
        seeds = (
            np.zeros((0, 2), dtype=np.int64) if seed_pairs is None else np.asarray(seed_pairs).reshape(-1, 2)
        )
        before = suggest(base, top_k=top_k, sources=entities, exclude_kg2=seeds[:, 1])
        after = suggest(changed, top_k=top_k, sources=entities, exclude_kg2=seeds[:, 1])
        ranking = whatif_ranking(before, after)
    return weights, ranking


def whatif_weights(base: Embeddings, changed: Embeddings, kg: int, entities: np.ndarray) -> pd.DataFrame:
    """For chosen entities of one KG: each modality's weight and sd before and after an override."""
    entities = np.asarray(entities, dtype=np.int64)
    rows = []
    for m in base.modalities:
        for label, emb in (("before", base), ("after", changed)):
            w = _side(emb.weights[m], kg)[entities]
            sd = np.sqrt(np.maximum(_side(emb.weight_var[m], kg)[entities], 0))
            rows.append(
                pd.DataFrame({"entity": entities, "modality": m, "when": label, "weight": w, "sd": sd})
            )
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def whatif_ranking(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Compare two candidate tables (``suggest`` output) for the same sources: per source the
    top-1 target and score before/after, and the rank the old top-1 has after (NaN: left the top-k)."""
    top_before = before[before["rank"] == 1].set_index("source")
    top_after = after[after["rank"] == 1].set_index("source")
    rows = []
    for source, row in top_before.iterrows():
        old_target = int(row["target"])
        in_after = after[(after["source"] == source) & (after["target"] == old_target)]
        rows.append(
            {
                "source": int(source),
                "top_before": old_target,
                "score_before": float(row["score"]),
                "margin_before": float(row["margin"]),
                "top_after": int(top_after.loc[source, "target"]) if source in top_after.index else -1,
                "score_after": float(top_after.loc[source, "score"]) if source in top_after.index else np.nan,
                "margin_after": float(top_after.loc[source, "margin"])
                if source in top_after.index
                else np.nan,
                "old_top_rank_after": float(in_after["rank"].iloc[0]) if len(in_after) else np.nan,
            }
        )
    return pd.DataFrame(rows)
