"""Decisions & export: the log, undo, conflicts, exports, and retraining with accepted pairs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app import review, state
from app.safe import md
from mimea_core.curation import csv_text, ntriples_text, sssom_text
from mimea_core.curation.active import RELEARN_EPOCHS
from mimea_core.curation.export import in_pair
from mimea_core.curation.onetoone import one_to_one_clashes
from mimea_core.errors import MimeaError
from mimea_core.evaluation import compare_runs, seeded_change

st.title("Decisions & export")
pair = state.current_pair()
if pair is None:
    st.stop()
store = state.decision_store(pair)
me = state.curator()

# -- the log ------------------------------------------------------------------------------------
log = store.decisions()
current = store.current_state()
c1, c2, c3, c4 = st.columns(4)
c1.metric("Decisions recorded", f"{len(log):,}")
c2.metric("Accepted pairs", f"{len(store.accepted_pairs()):,}")
c3.metric("Rejected", f"{int((current['decision'] == 'reject').sum()):,}")
c4.metric("Conflicts", f"{int(current['conflict'].sum()):,}")


def name(names: list[str], i: int) -> str:
    """The entity's name; a store may hold ids this pair does not have (another version of the data)."""
    return names[i] if 0 <= i < len(names) else f"(unknown entity #{i})"


def with_names(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.insert(2, "source_name", [name(pair.kg1.names, int(s)) for s in out["source"]])
    out.insert(3, "target_name", [name(pair.kg2.names, int(t)) for t in out["target"]])
    return out


st.subheader("Decision log")
only_mine = st.checkbox("Only my decisions", key="log_mine", disabled=not me)
shown = log[log["curator"] == me] if only_mine and me else log
st.dataframe(
    with_names(shown.iloc[::-1])[["id", "created_at", "curator", "decision", "source_name", "target_name", "note", "undoes"]],
    hide_index=True, height=300, key="decision_log",
    column_config={"created_at": st.column_config.DatetimeColumn("when (UTC)", format="YYYY-MM-DD HH:mm:ss")},
)  # fmt: skip

# -- undo ---------------------------------------------------------------------------------------
st.subheader("Undo")
if not me:
    st.info("Enter your curator name in the sidebar to undo your decisions.")
else:
    mine = current[current["positions"].str.contains(f"{me}: ", regex=False)]
    mine = mine.sort_values("created_at", ascending=False)
    options = list(zip(mine["source"].astype(int), mine["target"].astype(int), strict=True))
    if not options:
        st.text("You have no decision to undo.")
    else:
        picked = st.selectbox(
            "Pair (your decisions, newest first)", options, key="undo_pair",
            format_func=lambda p: f"{name(pair.kg1.names, p[0])} → {name(pair.kg2.names, p[1])}",
        )  # fmt: skip
        if st.button("Undo my latest decision on this pair", key="undo"):
            try:
                store.undo(picked[0], picked[1], me)
            except MimeaError as err:
                st.error(md(err))
            else:
                st.session_state["queue_version"] = st.session_state.get("queue_version", 0) + 1
                st.rerun()
        st.caption("Undo appends a row that restores the previous state; history is never rewritten.")

# -- conflicts ----------------------------------------------------------------------------------
conflicts = store.conflicts()
if len(conflicts):
    st.subheader(f"Conflicts ({len(conflicts)})")
    st.caption("Curators disagree (one accepts, another rejects): left out of exports until resolved.")
    st.dataframe(
        with_names(conflicts)[["source_name", "target_name", "positions"]], hide_index=True, key="conflicts"
    )
    options = list(zip(conflicts["source"].astype(int), conflicts["target"].astype(int), strict=True))
    c1, c2, c3 = st.columns([3, 1, 1])
    picked = c1.selectbox(
        "Resolve",
        options,
        key="resolve_pair",
        format_func=lambda p: f"{name(pair.kg1.names, p[0])} → {name(pair.kg2.names, p[1])}",
    )
    for column, decision in ((c2, "accept"), (c3, "reject")):
        if column.button(f"Resolve as {decision}", key=f"resolve_{decision}", disabled=not me):
            store.resolve(picked[0], picked[1], decision, me, note="conflict resolved")
            st.rerun()

clashes = one_to_one_clashes(current)
if len(clashes):
    st.subheader(f"One-to-one conflicts ({len(clashes)})")
    st.caption("Accepted pairs sharing a source or a target with another accepted pair: left out of "
               "exports until one of them is rejected (Candidates page, state 'conflict').")  # fmt: skip
    st.dataframe(with_names(clashes)[["source_name", "target_name", "clash", "curator"]], hide_index=True,
                 key="o2o_conflicts")  # fmt: skip
no_match = state.decision_store(pair).no_counterparts()
if len(no_match):
    st.subheader(f"No counterpart in {pair.kg2.name or 'KG2'} ({len(no_match)})")
    st.dataframe(no_match.assign(source_name=[name(pair.kg1.names, int(s)) for s in no_match["source"]])[
        ["source_name", "curator", "note", "created_at"]], hide_index=True, key="no_match")  # fmt: skip

# -- exports ------------------------------------------------------------------------------------
st.subheader("Export accepted pairs")
clash_keys = set(zip(clashes["source"].astype(int), clashes["target"].astype(int), strict=True))
states = [s for s in in_pair(store.accepted_states(), pair) if (s.source, s.target) not in clash_keys]
rejected = [s for s in in_pair(store.pair_states(), pair) if s.decision == "reject" and not s.conflict]
st.caption(f"{len(states)} accepted pairs without conflicts; {len(rejected)} rejected.")
with_negatives = st.checkbox(
    "SSSOM: also export rejected pairs as negative mappings (predicate_modifier: Not)", key="dl_negatives"
)
ranking = review.current_ranking(pair)
confidence = dict(zip(zip(ranking.cands["source"].astype(int), ranking.cands["target"].astype(int), strict=True),
                      ranking.cands["confidence"].astype(float), strict=True))  # fmt: skip
stem = Path(pair.name or "mapping").name.replace(" ", "_")
c1, c2, c3 = st.columns(3)
c1.download_button("SSSOM TSV", sssom_text(states, pair, rejected=rejected if with_negatives else (), confidence=confidence),
                   file_name=f"{stem}.sssom.tsv", mime="text/tab-separated-values", key="dl_sssom",
                   help="The confidence column is the shown ranking's calibrated probability that the pair is right.")  # fmt: skip
c2.download_button(
    "CSV", csv_text(states, pair), file_name=f"{stem}.accepted.csv", mime="text/csv", key="dl_csv"
)
c3.download_button("owl:sameAs N-Triples", ntriples_text(states, pair), file_name=f"{stem}.sameas.nt",
                   mime="application/n-triples", key="dl_nt")  # fmt: skip

# -- retrain ------------------------------------------------------------------------------------
st.subheader("Retrain with accepted pairs")
run = state.active_run(pair, auto_train=False)
accepted = np.array([[st.source, st.target] for st in states], dtype=np.int64).reshape(-1, 2)
job = state.training_job(pair)
if run is not None:
    st.text(f"Current model: {run.run_dir.name} ({len(run.extra_seeds)} curator seeds)")
    if st.button(f"Retrain with {len(accepted)} accepted pairs as extra seeds", key="retrain",
                 disabled=len(accepted) == 0 or (job is not None and job.running)):  # fmt: skip
        state.start_training(pair, run.config, split=run.split, extra_seeds=accepted,
                             label=f"retraining with {len(accepted)} accepted pairs", tag="retrain")  # fmt: skip
        st.session_state["retrain_from"] = str(run.run_dir)
        st.rerun()


@st.fragment(run_every=2.0 if job is not None and job.running else None)
def retrain_panel() -> None:
    job = state.training_job(pair)
    before_dir = st.session_state.get("retrain_from")
    if job is None or before_dir is None:
        return
    snap = job.snapshot()
    if snap.status == "running":
        st.progress(
            min(snap.epoch / max(snap.max_epochs, 1), 1.0),
            text=f"{snap.label}: epoch {snap.epoch}/{snap.max_epochs}",
        )
        return
    if snap.status == "failed":
        st.error(md(snap.error))
        return
    if not snap.run_dir or snap.run_dir == before_dir:
        return
    choice = state.data_choice()
    new_run = state.load_run(snap.run_dir)
    table, n_test = compare_runs(
        state.embeddings(before_dir, choice), state.embeddings(snap.run_dir, choice),
        new_run.split, new_run.extra_seeds,
    )  # fmt: skip
    st.success(md(f"Retrained: {Path(snap.run_dir).name}"))
    st.text(f"Metric change on the {n_test} test links not touched by accepted pairs (KG1 → KG2, CSLS):")
    st.caption("One training each: this change includes the noise of training (batch order, dropout). "
               "Whether the accepted pairs help: 'Measure the effect' below (same seeds, same budget).")  # fmt: skip
    st.dataframe(table.round(4), hide_index=True, key="retrain_change")
    if st.session_state.get(state.RUN_DIR) != snap.run_dir and st.button(
        "Use the retrained model", key="use_retrained"
    ):
        st.session_state[state.RUN_DIR] = snap.run_dir
        st.rerun(scope="app")


retrain_panel()

# -- does it help? the same seeds and budget, with and without the accepted pairs -----------------
st.subheader("Measure the effect of the accepted pairs")
st.caption("Trains from the current model's weights, with and without the accepted pairs, under the "
           "same seeds and the same fixed number of epochs, and scores both on the test links no "
           "accepted pair touches. The spread over seeds says whether a change is beyond noise.")  # fmt: skip
c1, c2 = st.columns(2)
n_seeds = c1.select_slider("Seeds", [2, 3], value=3, key="measure_seeds")
measure_epochs = int(c2.number_input("Epochs per training", 1, 200, RELEARN_EPOCHS, key="measure_epochs"))
measure_key = (str(run.run_dir) if run is not None else "", accepted.tobytes(), n_seeds, measure_epochs)
if st.button("Measure the effect", key="measure_change", disabled=run is None or len(accepted) == 0):
    with st.spinner(f"Training {2 * n_seeds} times ({measure_epochs} epochs each)…"):
        try:
            change = seeded_change(
                pair, run.config, run.split, accepted, base_seeds=run.extra_seeds,
                init_state=run.model.state_dict(), seeds=tuple(range(n_seeds)), epochs=measure_epochs,
            )  # fmt: skip
        except MimeaError as err:
            st.error(md(err))
        else:
            st.session_state["seeded_change"] = (measure_key, change)
measured = st.session_state.get("seeded_change")
if measured is not None and measured[0] == measure_key:
    change = measured[1]
    st.text(f"Test H@1 (KG1 → KG2, CSLS) on the {change.n_test} untouched test links, per seed:")
    st.dataframe(change.per_seed.round(4), hide_index=True, key="seeded_change_table")
    (st.info if change.within_noise else st.success if change.mean_change > 0 else st.warning)(change.verdict())
