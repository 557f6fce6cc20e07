"""Curator mode "active learning": the model relearns after each batch of labels.

With the mode on, the queue is ordered "most informative first" by the simulated curator's
"informative" strategy (:func:`informative_queue`: :mod:`mimea_core.curation.active`, the one
home of the strategies): sources the model is unsure of that sit among many not-yet-aligned
neighbours, a batch spread over the graph. For each, the curator accepts the suggestion, accepts
another target found by search, or says "no counterpart". Once the curator has given a batch
of new labels (accepts and rejects since the model in use was trained), the model retrains in the
background from its own weights for a few epochs (:func:`mimea_core.curation.active.relearn_config`)
with every accepted pair as an extra seed, and the new model's ranking replaces the old one when
it is done. Rejected pairs have left the queue already (their state is "reject").

The number of labels a model has seen is kept in its config's free-form ``extra`` notes
(``active_labels``), so the count survives a restart. The page folds the decision log once per run
(:meth:`DecisionStore.current_state`) and hands the folded ``states`` to every function here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from app.safe import md
from mimea_core.curation.store import accepted_in
from mimea_core.data.types import MMKGPair
from mimea_core.runs import RunResult

MODE = "al_mode"
BATCH = "al_batch"
DEFAULT_BATCH = 50
LABEL_PREFIX = "relearning"
CURVE = state.REPO_ROOT / "benchmarks" / "results" / "active_learning.json"


def labels_given(states: pd.DataFrame, no_match: int = 0) -> int:
    """Pairs of ``states`` (:meth:`DecisionStore.current_state`) that are accepted or rejected, plus
    ``no_match`` sources answered "no counterpart" (each is one label, as in the simulated curator's
    counterpart oracle)."""
    return (int(states["decision"].isin(["accept", "reject"]).sum()) if len(states) else 0) + no_match


def labels_seen(run: RunResult) -> int:
    return int(run.config.extra.get("active_labels", 0))


def accepted_in_pair(states: pd.DataFrame, pair: MMKGPair) -> np.ndarray:
    """The accepted, conflict-free pairs of ``states`` whose ids exist in ``pair``."""
    pairs = accepted_in(states)
    keep = (pairs[:, 0] < pair.kg1.num_entities) & (pairs[:, 1] < pair.kg2.num_entities)
    return pairs[keep]


@st.cache_resource(max_entries=4)
def kg1_structure(key: str, _pair: MMKGPair):
    """KG1's neighbourhoods, built once per dataset (``key``: its fingerprint)."""
    from mimea_core.curation.active import Structure

    return Structure.from_kg(_pair.kg1)


def informative_queue(queue: pd.DataFrame, pair: MMKGPair, run: RunResult | None, states: pd.DataFrame,
                      batch: int = DEFAULT_BATCH) -> pd.DataFrame:
    """``queue`` with ``informativeness`` replaced by the "informative" strategy's order: the next
    ``batch`` sources greedily, then the rest (seeds of ``run`` and accepted sources count as aligned)."""  # fmt: skip
    from mimea_core.curation.active import informative_rank

    if len(queue) == 0:
        return queue
    aligned = [accepted_in_pair(states, pair)[:, 0]]
    if run is not None:
        aligned.append(run.seed_pairs[:, 0])
    structure = kg1_structure(pair.fingerprint or pair.name, pair).with_aligned(np.concatenate(aligned))
    out = queue.copy()
    undecided = (out["state"] == "undecided").to_numpy() if "state" in out.columns else np.ones(len(out), bool)
    rank = np.zeros(len(out))
    if undecided.any():
        rank[undecided] = informative_rank(out[undecided].reset_index(drop=True), structure, batch=batch)
    out["informativeness"] = rank
    return out


def on_mode_change() -> None:
    """Switching the mode on orders the queue "most informative first", from its top."""
    if st.session_state.get(MODE):
        st.session_state["q_order"] = "most informative first"
        st.session_state.pop(state.REVIEW_PAIR, None)
        st.session_state["queue_version"] = st.session_state.get("queue_version", 0) + 1


def adopt_finished(pair: MMKGPair) -> None:
    """Before the ranking is drawn: use the model of a relearning job that has just ended."""
    job = state.training_job(pair)
    if job is None or not st.session_state.get(MODE) or not job.label.startswith(LABEL_PREFIX):
        return
    snap = job.snapshot()
    if snap.status == "done" and snap.run_dir and st.session_state.get("al_adopted") != snap.run_dir:
        st.session_state[state.RUN_DIR] = snap.run_dir
        st.session_state["al_adopted"] = snap.run_dir
        st.session_state.pop(state.REVIEW_PAIR, None)
        st.session_state["queue_version"] = st.session_state.get("queue_version", 0) + 1


def start_relearning(pair: MMKGPair, run: RunResult, accepted: np.ndarray, labels: int):
    from mimea_core.curation.active import relearn_config

    config = relearn_config(run.config)
    config = config.replace(extra={**run.config.extra, "active_labels": labels})
    return state.start_training(
        pair, config, split=run.split, extra_seeds=accepted, tag="relearn",
        label=f"{LABEL_PREFIX} with {labels} labels ({len(accepted)} accepted)",
        init_state=run.model.state_dict(),
    )  # fmt: skip


def mode_panel(pair: MMKGPair, run: RunResult | None, states: pd.DataFrame, no_match: int = 0) -> None:
    """The toggle, the batch size, the count to the next relearning, and the relearning itself.

    ``states``: the folded decisions; ``no_match``: how many sources the curator has answered
    "no counterpart" (labels too)."""
    c1, c2 = st.columns([3, 1])
    c1.toggle(
        "Active learning: relearn after every batch of labels", key=MODE, on_change=on_mode_change,
        help="The queue asks first about the sources whose label helps most: the model is unsure of "
        "them and they have many neighbours not aligned yet (measured against random on the Train "
        "page). Accept the suggestion, or search KG2 for the right counterpart, or say 'no "
        "counterpart'. After each batch of labels the model retrains from its current weights "
        "(accepted pairs become seeds; rejected pairs leave the queue) and its new ranking replaces "
        "the old one.",
    )  # fmt: skip
    if not st.session_state.get(MODE):
        return
    batch = int(c2.number_input("Batch", 1, 1000, DEFAULT_BATCH, key=BATCH, help="labels per relearning"))
    if run is None:
        st.caption("Active learning starts once a model exists (the default training is running).")
        return
    job = state.training_job(pair)
    if job is not None and job.running:
        state.watch_job(job, "{label}: epoch {epoch}/{max_epochs}. The queue updates when it ends.")
        return
    given = labels_given(states, no_match)
    accepted = accepted_in_pair(states, pair)
    new = given - labels_seen(run)
    failed = job is not None and job.label.startswith(LABEL_PREFIX) and job.snapshot().status == "failed"
    if failed:  # do not retry on every page run
        st.error(md(f"Relearning failed: {job.snapshot().error}"))
    elif new >= batch:
        start_relearning(pair, run, accepted, given)
        st.rerun()
    st.caption(f"{new} of {batch} new labels until the model relearns (model in use has seen "
               f"{labels_seen(run)}; {len(accepted)} accepted pairs are seeds).")  # fmt: skip


def curve_rows(path: Path = CURVE) -> pd.DataFrame:
    """The committed simulated-curator summary (one row per pair, strategy and label count)."""
    if not path.is_file():
        return pd.DataFrame()
    data = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame(data.get("summary", []))


def show_curve() -> None:
    """The simulated-curator curve of ``benchmarks/active_learning.py``, read from its JSON."""
    from app import charts

    rows = curve_rows()
    st.subheader("Active learning, measured (simulated curator)")
    if rows.empty:
        st.caption("No simulated-curator results yet: run benchmarks/active_learning.py.")
        return
    st.plotly_chart(charts.active_learning_curve(rows), key="al_curve")
    st.caption(
        "Gold links as the oracle: for each source a strategy picks, it gives the counterpart or 'no "
        "counterpart', as a curator does here; half of the links are a test set never shown to it; "
        "start from 1% seeds, no names; after each batch of 50 labels the model retrains from its "
        "weights. Test H@1, mean ± sd over split seeds (benchmarks/results/active_learning.md)."
    )
