"""Train: start MIMEA in the background with live progress, cancel it, or load a saved run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app import active, charts, state
from app.safe import md
from mimea_core.errors import MimeaError
from mimea_core.registry import FUSIONS, MODALITY_ENCODERS

st.title("Train")
pair = state.current_pair()
if pair is None:
    st.stop()


# -- the run in use -------------------------------------------------------------------------------
run = state.active_run(pair, auto_train=False)
if run is not None:
    st.subheader("Model in use")
    st.text(f"{run.run_dir.name}: modalities {', '.join(run.meta.get('modalities', []))}; "
            f"{run.metrics.epochs or '?'} epochs, {run.metrics.train_seconds or '?'} s; "
            f"{len(run.extra_seeds)} curator seeds")  # fmt: skip
    st.dataframe(run.metrics.to_frame(), hide_index=True)
    st.caption("Standard: gold target ranked among the test targets (as papers report). Open: among all "
               "KG2 entities that are not seeds (what a curator faces). KG1 → KG2, CSLS.")  # fmt: skip

# -- load a saved run -----------------------------------------------------------------------------
with st.expander("Load a saved run", expanded=run is None):
    infos = state.runs_for(pair)
    labels = {state.run_label(info): str(info.path) for info in infos}
    picked = st.selectbox("Runs for this dataset", ["—", *labels], key="run_pick")
    other = st.text_input("…or a run directory", key="run_path")
    if st.button("Use this run", key="use_run"):
        target = other.strip() or labels.get(picked)
        if not target:
            st.error("Pick a run or enter a run directory.")
        else:
            try:
                loaded = state.load_run(str(Path(target).expanduser()))
            except MimeaError as err:
                st.error(md(err))
            else:
                if not state.run_matches(loaded, pair):
                    st.error(md(f"{target} was trained on another dataset ({loaded.dataset})."))
                else:
                    st.session_state[state.RUN_DIR] = str(loaded.run_dir)
                    st.rerun()

# -- start training -------------------------------------------------------------------------------
job = state.training_job(pair)
with st.form("train_form"):
    st.subheader("Train a new model")
    default = state.quick_config(pair)
    c1, c2, c3 = st.columns(3)
    modalities = c1.multiselect(
        "Modalities", list(MODALITY_ENCODERS), default=list(default.modalities), key="t_modalities"
    )
    fusion = c1.selectbox("Fusion", list(FUSIONS), index=list(FUSIONS).index(default.fusion), key="t_fusion")
    use_ot = c2.checkbox("Optimal-transport modal alignment", value=default.use_ot, key="t_ot")
    modal_contrastive = c2.checkbox(
        "Per-modality contrastive terms", value=default.modal_contrastive, key="t_mc"
    )
    pseudo = c2.checkbox("Iterative pseudo-seeding", value=default.pseudo_seeding, key="t_pseudo")
    epochs = c3.number_input("Max epochs", 1, 2000, default.epochs, key="t_epochs")
    dim = c3.select_slider("Dimension per modality", [32, 64, 128, 256], value=default.dim, key="t_dim")
    seed_ratio = c3.select_slider("Seed ratio", [0.01, 0.05, 0.1, 0.2, 0.5, 0.8], value=0.2, key="t_ratio")
    budget = c3.number_input(
        "Time budget (s, 0 = none)", 0, 36000, int(default.time_budget or 0), key="t_budget"
    )
    start = st.form_submit_button("Start training", disabled=job is not None and job.running)
if start:
    try:
        config = default.replace(
            modalities=tuple(modalities), fusion=fusion, use_ot=use_ot, modal_contrastive=modal_contrastive,
            pseudo_seeding=pseudo, epochs=int(epochs), dim=int(dim), time_budget=float(budget) or None,
        )  # fmt: skip
        from mimea_core.data import make_split

        split = make_split(pair, seed_ratio=float(seed_ratio), seed=config.seed)
    except MimeaError as err:
        st.error(md(err))
    else:
        state.start_training(pair, config, split=split, label=f"training ({', '.join(modalities)})")
        st.session_state["follow_job"] = True
        st.rerun()


# -- progress (refreshes itself while the job runs; the rest of the page stays usable) ------------
@st.fragment(run_every=1.0 if job is not None and job.running else None)
def progress_panel() -> None:
    job = state.training_job(pair)
    if job is None:
        return
    snap = job.snapshot()
    st.subheader(f"Job: {snap.label}")
    fraction = min(snap.epoch / max(snap.max_epochs, 1), 1.0)
    mrr = f"{snap.valid_mrr:.3f}" if snap.valid_mrr is not None else "—"
    st.progress(fraction, text=f"{snap.status}: epoch {snap.epoch}/{snap.max_epochs}, validation MRR {mrr}, "
                               f"{snap.elapsed_s:.0f} s")  # fmt: skip
    if snap.losses:
        st.dataframe(pd.DataFrame([snap.losses]).round(4), hide_index=True)
    if len(snap.history) > 1:
        st.plotly_chart(charts.history_chart(snap.history), key="history_chart")
    if snap.message:
        st.text(snap.message)
    if snap.status == "running":
        if st.button("Cancel training", key="cancel_training"):
            job.cancel()
            st.info("Cancelling after the current step; the best model so far is kept and saved.")
    elif snap.status == "failed":
        st.error(md(snap.error))
    elif snap.run_dir:
        st.success(md(f"Finished ({snap.status}): {Path(snap.run_dir).name}"))
        if st.session_state.get(state.RUN_DIR) != snap.run_dir and st.session_state.pop("follow_job", False):
            st.session_state[state.RUN_DIR] = snap.run_dir
            st.rerun(scope="app")


progress_panel()


active.show_curve()
