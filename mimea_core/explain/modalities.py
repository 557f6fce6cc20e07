"""Per-modality explanation records: fusion weights with their uncertainty, per-modality similarity
of a pair, per-modality accuracy, and what-if comparisons.

Weights are the Beta means ``α/(α+β)`` normalised over the modalities an entity has; their
uncertainty is shown as the standard deviation ``sd = sqrt(Var)`` with
``Var = αβ / ((α+β)²(α+β+1))`` as given by :class:`~mimea_core.embeddings.Embeddings`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.embeddings import Embeddings


def _side(emb_part: tuple[np.ndarray, np.ndarray], kg: int) -> np.ndarray:
    return np.asarray(emb_part[kg - 1])


def weight_records(emb: Embeddings) -> pd.DataFrame:
    """Long table, one row per (kg, entity, modality): weight, sd, present."""
    frames = []
    for m in emb.modalities:
        for kg in (1, 2):
            w = _side(emb.weights[m], kg)
            var = _side(emb.weight_var[m], kg) if m in emb.weight_var else np.zeros_like(w)
            present = _side(emb.present[m], kg) if m in emb.present else np.ones(len(w), dtype=bool)
            frames.append(
                pd.DataFrame(
                    {
                        "kg": kg,
                        "entity": np.arange(len(w), dtype=np.int64),
                        "modality": m,
                        "weight": w.astype(float),
                        "sd": np.sqrt(np.maximum(var, 0)).astype(float),
                        "present": present.astype(bool),
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=["kg", "entity", "modality", "weight", "sd", "present"])
    return pd.concat(frames, ignore_index=True)


def weight_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per (kg, modality), over entities that have the modality: coverage, mean/median weight, mean sd."""
    rows = []
    for (kg, m), group in records.groupby(["kg", "modality"], sort=False):
        have = group[group["present"]]
        rows.append(
            {
                "kg": kg,
                "modality": m,
                "coverage": float(group["present"].mean()),
                "mean_weight": float(have["weight"].mean()) if len(have) else float("nan"),
                "median_weight": float(have["weight"].median()) if len(have) else float("nan"),
                "mean_sd": float(have["sd"].mean()) if len(have) else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def entity_weights(emb: Embeddings, kg: int, entity: int) -> pd.DataFrame:
    """One entity's weight, sd and presence per modality."""
    records = [
        {
            "modality": m,
            "weight": float(_side(emb.weights[m], kg)[entity]),
            "sd": float(np.sqrt(max(_side(emb.weight_var[m], kg)[entity], 0)))
            if m in emb.weight_var
            else 0.0,
            "present": bool(_side(emb.present[m], kg)[entity]) if m in emb.present else True,
        }
        for m in emb.modalities
    ]
    return pd.DataFrame(records, columns=["modality", "weight", "sd", "present"])


def pair_modalities(emb: Embeddings, source: int, target: int) -> pd.DataFrame:
    """Per modality for a candidate pair: cosine similarity of the two entities' modality
    embeddings, and each side's weight ± sd and presence; plus a ``joint`` row."""
    w1 = entity_weights(emb, 1, source)
    w2 = entity_weights(emb, 2, target)
    rows = []
    for i, m in enumerate(emb.modalities):
        X1, X2 = emb.per_modality.get(m, (None, None))
        sim = float(np.dot(X1[source], X2[target])) if X1 is not None else float("nan")
        rows.append(
            {
                "modality": m,
                "similarity": sim,
                "weight_kg1": w1.loc[i, "weight"],
                "sd_kg1": w1.loc[i, "sd"],
                "weight_kg2": w2.loc[i, "weight"],
                "sd_kg2": w2.loc[i, "sd"],
                "present_kg1": w1.loc[i, "present"],
                "present_kg2": w2.loc[i, "present"],
            }
        )
    joint = float(np.dot(emb.joint[0][source], emb.joint[1][target]))
    rows.append({"modality": "joint", "similarity": joint})
    return pd.DataFrame(rows)
