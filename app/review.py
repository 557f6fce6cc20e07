"""The ranking the review queue shows: the model's, or a training-free first one while it trains.

On a fresh start there is no model for minutes; the queue must not be empty meanwhile. So until a
run exists, the queue shows :func:`mimea_core.lexical.lexical_suggest` (names and attribute values,
ready in seconds) on the same split the default training uses, and swaps in the model's ranking
when the training ends (the page reruns itself, see :func:`app.state.watch_job`). Either way every
candidate carries a ``confidence``: the probability that the pair is right, calibrated on the
split's validation links (:mod:`mimea_core.calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

from app import state
from mimea_core.calibration import ConfidenceModel, fit_confidence
from mimea_core.data.types import MMKGPair, Split
from mimea_core.embeddings import Embeddings
from mimea_core.runs import RunResult

LEXICAL = "lexical"
MODEL = "model"
CONFIDENCE_HELP = (
    "Probability that this pair is right, calibrated on held-out validation links: a logistic fit "
    "on the raw score and its gap to the source's best other candidate. 90% means about 9 in 10 "
    "pairs shown with it are right. Raw numbers: 'Details' under the pair."
)


@dataclass(frozen=True)
class Ranking:
    """What the queue shows: ``kind`` is ``"model"`` (a trained run) or ``"lexical"`` (training-free)."""

    kind: str
    cands: pd.DataFrame
    calibration: ConfidenceModel
    run: RunResult | None = None
    emb: Embeddings | None = None

    @property
    def label(self) -> str:
        if self.kind == MODEL and self.run is not None:
            return f"the model's ranking ({self.run.run_dir.name}; modalities {', '.join(self.run.meta.get('modalities', []))})"
        return "a first ranking from names and attribute values (no training)"


@st.cache_resource(max_entries=4)
def default_split(choice: state.DataChoice) -> Split:
    """The split the default training uses (``train``'s default: 20% seeds, the config's seed)."""
    from mimea_core.data import make_split

    return make_split(state.load_dataset(choice), seed_ratio=0.2, seed=state.QUICK_CONFIG.seed)


def _with_confidence(frame: pd.DataFrame, model: ConfidenceModel, pair: MMKGPair) -> pd.DataFrame:
    """The candidates with their confidence, and the two names (so the queue need not look them up)."""
    out = frame.copy()
    out.insert(out.columns.get_loc("score") + 1, "confidence", model.predict(frame))
    out["source_name"] = [pair.kg1.names[i] for i in out["source"]]
    out["target_name"] = [pair.kg2.names[i] for i in out["target"]]
    return out


# cache_resource, not cache_data: the frames are read-only here, and cache_data would unpickle a
# copy of ~25k rows on every page run (a decision reruns the page)
@st.cache_resource(show_spinner="Ranking candidates by names and attribute values…", max_entries=4)
def lexical_candidates(choice: state.DataChoice, top_k: int = state.TOP_K) -> tuple[pd.DataFrame, ConfidenceModel]:
    from mimea_core.lexical import lexical_suggest

    pair = state.load_dataset(choice)
    split = default_split(choice)
    seeds = np.concatenate([split.train, split.valid]).reshape(-1, 2)
    sources = np.setdiff1d(np.arange(pair.kg1.num_entities), seeds[:, 0])
    held_out = lexical_suggest(pair, top_k, sources=split.valid[:, 0], exclude_kg2=split.train[:, 1])
    model = fit_confidence(held_out, split.valid)
    frame = lexical_suggest(pair, top_k, sources=sources, exclude_kg1=seeds[:, 0], exclude_kg2=seeds[:, 1])
    return _with_confidence(frame, model, pair), model


@st.cache_data(show_spinner="Calibrating the confidence…", max_entries=8)
def model_calibration(run_dir: str, choice: state.DataChoice) -> ConfidenceModel:
    """Fit on the run's validation sources, ranked among KG2 entities that are not training seeds."""
    from mimea_core.candidates import suggest

    run = state.load_run(run_dir)
    valid = np.asarray(run.split.valid, dtype=np.int64).reshape(-1, 2)
    seeds = run.seed_pairs
    used = seeds[~np.isin(seeds[:, 1], valid[:, 1])]
    held_out = suggest(
        state.embeddings(run_dir, choice), top_k=state.TOP_K, sources=valid[:, 0],
        exclude_kg1=used[:, 0], exclude_kg2=used[:, 1],
    )  # fmt: skip
    return fit_confidence(held_out, valid)


@st.cache_resource(show_spinner=False, max_entries=8)
def model_candidates(run_dir: str, choice: state.DataChoice) -> pd.DataFrame:
    return _with_confidence(
        state.candidates(run_dir, choice), model_calibration(run_dir, choice), state.load_dataset(choice)
    )


def current_ranking(pair: MMKGPair) -> Ranking | None:
    """The model's ranking when a run exists, else the lexical one (the default training starts)."""
    run = state.active_run(pair, auto_train=False, quiet=True)
    choice = state.data_choice()
    if run is not None:
        key = str(run.run_dir)
        return Ranking(
            MODEL, model_candidates(key, choice), model_calibration(key, choice), run, state.embeddings(key, choice)
        )
    # the first ranking before the default training starts: on a 2-core machine the two would
    # share the cores, and the first ranking is what the curator is waiting for
    cands, calibration = lexical_candidates(choice)
    job = state.start_default_training(pair)
    if job is not None and job.snapshot().status == "failed":
        st.error(f"The default training failed: {job.snapshot().error}")
    return Ranking(LEXICAL, cands, calibration)


def ranking_note(pair: MMKGPair, ranking: Ranking) -> None:
    """Say which ranking is shown; while the default model trains, watch it and swap it in."""
    job = state.training_job(pair)
    if ranking.kind == LEXICAL and job is not None and job.running:
        state.watch_job(
            job,
            "Showing a first ranking from names and attribute values (no training). The model "
            "({label}, epoch {epoch}/{max_epochs}) replaces it when its training ends.",
        )
    elif ranking.kind == LEXICAL:
        st.info("Showing a first ranking from names and attribute values (no training): no model for "
                "this dataset yet. Train one on the Train page.")  # fmt: skip
    else:
        st.caption(f"Showing {ranking.label}.")
