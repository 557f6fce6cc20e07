"""The curators' review queue: candidates joined with names and decision states, ordered.

"Most informative first" puts the pairs whose decision teaches a retrained model the most on top:
those the model is unsure about. Two signals, each turned into a percentile rank in [0, 1] so that
they are comparable:

    informativeness = ½ · (1 - pct(margin)) + ½ · pct(u),
    u = mean over modalities present on both sides of (sd₁ + sd₂) / 2,

where ``margin`` is the top-1 minus runner-up score of the source and ``sd`` the Beta standard
deviation of a modality weight. Small margin (ambiguous ranking) and uncertain modality weights
both raise it.

The default order is "highest score first" (likely matches first: what helps a curator most);
"most informative first" is for active learning. With a ``confidence`` column (see
:mod:`mimea_core.calibration`), "highest score first" orders by it.

One-to-one awareness (:mod:`mimea_core.curation.onetoone`): undecided rows whose source or target
is already taken by an accepted pair, or whose source has no counterpart, are ``retired``;
accepted pairs that clash with another accepted pair are ``conflict``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.curation.onetoone import one_to_one_clashes, pair_keys, retired_mask
from mimea_core.curation.store import UNDECIDED
from mimea_core.data.types import MMKGPair

ORDERINGS = ("highest score first", "most informative first", "smallest margin first")
STATES = (UNDECIDED, "accept", "reject", "skip", "conflict", "retired")


def weight_uncertainty(cands: pd.DataFrame) -> np.ndarray:
    """Mean over modalities of the two sides' weight sd (from ``wvar1_*``/``wvar2_*`` columns)."""
    modalities = [c[len("wvar1_") :] for c in cands.columns if c.startswith("wvar1_")]
    if not modalities:
        return np.zeros(len(cands))
    sds = [
        (
            np.sqrt(np.maximum(cands[f"wvar1_{m}"].to_numpy(float), 0))
            + np.sqrt(np.maximum(cands[f"wvar2_{m}"].to_numpy(float), 0))
        )
        / 2
        for m in modalities
    ]
    return np.nanmean(np.stack(sds, axis=1), axis=1)


def pct_rank(values) -> np.ndarray:
    """Percentile rank in (0, 1], ties averaged (pandas' ``rank(pct=True)``); NaN -> 0.5."""
    return pd.Series(np.asarray(values, dtype=float)).rank(pct=True, method="average").fillna(0.5).to_numpy()


def informativeness(margin, uncertainty) -> np.ndarray:
    """½ · (1 - pct(margin)) + ½ · pct(weight uncertainty) (see the module docstring)."""
    return 0.5 * (1 - pct_rank(margin)) + 0.5 * pct_rank(uncertainty)


def review_queue(
    cands: pd.DataFrame,
    states: pd.DataFrame,
    pair: MMKGPair,
    *,
    top1_only: bool = True,
    no_match: set[int] | frozenset[int] = frozenset(),
) -> pd.DataFrame:
    """Queue rows: source, target, rank, source_name, target_name, score, [confidence,] margin,
    mutual_nn, one_to_one, uncertainty, informativeness, state (undecided/accept/reject/skip/
    conflict/retired), note.

    ``states`` is :meth:`DecisionStore.current_state` output; ``no_match`` the sources decided to
    have no counterpart in KG2.
    """
    queue = cands[cands["rank"] == 1] if top1_only else cands
    queue = queue.copy().reset_index(drop=True)
    if "source_name" not in queue.columns:  # callers that cache candidates may add the names once
        queue["source_name"] = [pair.kg1.names[i] for i in queue["source"]]
    if "target_name" not in queue.columns:
        queue["target_name"] = [pair.kg2.names[i] for i in queue["target"]]
    queue["uncertainty"] = weight_uncertainty(queue)
    queue["informativeness"] = informativeness(queue["margin"], queue["uncertainty"])
    queue["state"] = UNDECIDED
    queue["note"] = ""
    if len(states):
        decided = queue[["source", "target"]].merge(
            states[["source", "target", "decision", "conflict", "note"]], on=["source", "target"], how="left"
        )  # states has one row per pair, so the merge keeps the queue's rows and order
        found = decided["decision"].notna().to_numpy()
        if found.any():
            rows = decided[found]
            state = np.where(rows["conflict"].astype(bool).to_numpy(), "conflict", rows["decision"].to_numpy())
            queue.loc[found, "state"] = state
            queue.loc[found, "note"] = rows["note"].to_numpy()
        clashes = one_to_one_clashes(states)
        if len(clashes):
            in_clash = np.isin(
                pair_keys(queue["source"], queue["target"]), pair_keys(clashes["source"], clashes["target"])
            )
            queue.loc[in_clash, "state"] = "conflict"
    if len(states) or no_match:
        retired = retired_mask(queue, states, no_match) & (queue["state"] == UNDECIDED).to_numpy()
        queue.loc[retired, "state"] = "retired"
    columns = [
        "source",
        "target",
        "rank",
        "source_name",
        "target_name",
        "score",
        "confidence",
        "margin",
        "mutual_nn",
        "one_to_one",
        "uncertainty",
        "informativeness",
        "state",
        "note",
    ]
    return queue[[c for c in columns if c in queue.columns]]


def order_queue(queue: pd.DataFrame, ordering: str) -> pd.DataFrame:
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {ORDERINGS}, got {ordering!r}")
    if ordering == "most informative first":
        out = queue.sort_values(["informativeness", "score"], ascending=[False, False], kind="stable")
    elif ordering == "highest score first":
        keys = ["confidence", "score"] if "confidence" in queue.columns else ["score", "margin"]
        out = queue.sort_values(keys, ascending=[False, False], kind="stable")
    else:
        out = queue.sort_values(["margin", "score"], ascending=[True, False], kind="stable")
    return out.reset_index(drop=True)


def filter_queue(
    queue: pd.DataFrame,
    *,
    min_score: float | None = None,
    max_margin: float | None = None,
    states: tuple[str, ...] | list[str] | None = None,
    search: str = "",
) -> pd.DataFrame:
    """Rows with score ≥ min_score, margin ≤ max_margin, state in ``states``, and ``search`` (plain
    text, case-insensitive) in either name."""
    keep = np.ones(len(queue), dtype=bool)
    if min_score is not None:
        keep &= queue["score"].to_numpy(float) >= min_score
    if max_margin is not None:
        keep &= ~(queue["margin"].to_numpy(float) > max_margin)  # NaN (a single candidate) passes
    if states is not None:
        keep &= queue["state"].isin(list(states)).to_numpy()
    text = search.strip().lower()
    if text:
        keep &= (
            queue["source_name"].str.lower().str.contains(text, regex=False)
            | queue["target_name"].str.lower().str.contains(text, regex=False)
        ).to_numpy()
    return queue[keep].reset_index(drop=True)


def next_undecided(queue: pd.DataFrame, after: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """The first undecided pair after ``after`` in queue order (wrapping round), or None."""
    pairs = list(zip(queue["source"].astype(int), queue["target"].astype(int), strict=True))
    undecided = (queue["state"] == UNDECIDED).to_numpy()
    start = pairs.index(after) + 1 if after in pairs else 0
    for i in list(range(start, len(pairs))) + list(range(0, start)):
        if undecided[i]:
            return pairs[i]
    return None
