"""Per-modality explanation records: fusion weights with their uncertainty, per-modality similarity
of a pair, per-modality accuracy, and what-if comparisons.

Weights are the Beta means ``α/(α+β)`` normalised over the modalities an entity has; their
uncertainty is shown as the standard deviation ``sd = sqrt(Var)`` with
``Var = αβ / ((α+β)²(α+β+1))`` as given by :class:`~mimea_core.embeddings.Embeddings`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.data.types import Split
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


def modality_accuracy(emb: Embeddings, split: Split, csls_k: int = 3) -> pd.DataFrame:
    """Standard-protocol KG1→KG2 CSLS Hits@1/Hits@10/MRR of each modality's space alone and of the
    joint space, on the test links; ``coverage`` = share of test links with the modality on both sides."""
    from mimea_core.evaluation import evaluate_embeddings

    test = np.asarray(split.test, dtype=np.int64).reshape(-1, 2)
    rows = []
    spaces = [
        ("joint", emb.joint),
        *((m, emb.per_modality[m]) for m in emb.modalities if m in emb.per_modality),
    ]
    for name, (X1, X2) in spaces:
        metrics = evaluate_embeddings(Embeddings.from_joint(X1, X2), split, csls_k=csls_k, one_to_one=False)
        if name in emb.present:
            p1, p2 = emb.present[name]
            coverage = float((np.asarray(p1)[test[:, 0]] & np.asarray(p2)[test[:, 1]]).mean())
        else:
            coverage = 1.0
        rows.append({"space": name, **metrics["standard"], "coverage": coverage})
    return pd.DataFrame(rows)


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
