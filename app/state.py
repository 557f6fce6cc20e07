"""Cached loaders and session keys shared by the pages.

Everything heavy is cached once per server process: the dataset and the model
(``st.cache_resource``), embeddings, candidates, accuracy tables and UMAP maps (``st.cache_data``
or ``st.cache_resource``), keyed by hashable descriptions (:class:`DataChoice`, run directory), so
that changing page never recomputes them.

Files the app writes live under the app directory ``$MIMEA_APP_DIR`` (default ``.mimea/`` in the
project): ``runs/`` (trained runs), ``decisions/`` (one SQLite decision store per dataset),
``uploads/`` (uploaded pairs).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from app.jobs import JobRegistry, TrainingJob
from app.safe import md
from mimea_core.config import MIMEAConfig
from mimea_core.curation import DecisionStore
from mimea_core.data.types import MMKGPair
from mimea_core.embeddings import Embeddings
from mimea_core.errors import ConfigError, MimeaError
from mimea_core.runs import RunInfo, RunResult, find_runs

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO_ROOT / "sample_data"
DEFAULT_PAIR = SAMPLE_ROOT / "fb15k-db15k-small"
MAX_UPLOAD_MB = 50  # keep equal to server.maxUploadSize in app/.streamlit/config.toml
TOP_K = 10

# Session keys (one place, so pages agree)
CURATOR = "curator"
DATA_CHOICE = "data_choice"
RUN_DIR = "run_dir"
REVIEW_PAIR = "review_pair"

#: The configuration the app trains with when no run exists yet: the library defaults with a
#: two-minute budget, plus names where the pair has them (:func:`quick_config`).
QUICK_CONFIG = MIMEAConfig(time_budget=120.0)
#: Environment variable: the default training's time budget in seconds (QUICK_CONFIG's otherwise).
TRAIN_SECONDS_ENV = "MIMEA_APP_TRAIN_SECONDS"


def quick_config(pair: MMKGPair) -> MIMEAConfig:
    """The app's default model: every modality the pair has, names included (see
    :mod:`mimea_core.curation.defaults`; benchmarks keep names off); its time budget is
    ``$MIMEA_APP_TRAIN_SECONDS`` when set."""
    from mimea_core.curation.defaults import curation_config

    config = QUICK_CONFIG
    raw = os.environ.get(TRAIN_SECONDS_ENV, "").strip()
    if raw:
        try:
            seconds = float(raw)
            if not seconds > 0:
                raise ValueError
        except ValueError:
            raise ConfigError(f"{TRAIN_SECONDS_ENV} must be a positive number of seconds, got {raw!r}") from None
        config = config.replace(time_budget=seconds)
    return curation_config(pair, config)


def app_dir() -> Path:
    return Path(os.environ.get("MIMEA_APP_DIR", REPO_ROOT / ".mimea")).resolve()


def bundled_pairs() -> dict[str, Path]:
    """Pairs shipped in ``sample_data/`` (name -> folder), the default one first."""
    found = sorted(p for p in SAMPLE_ROOT.iterdir() if p.is_dir()) if SAMPLE_ROOT.is_dir() else []
    return dict(sorted(((p.name, p) for p in found), key=lambda kv: kv[1] != DEFAULT_PAIR))


@dataclass(frozen=True)
class DataChoice:
    """What the user picked on the data page (hashable: it keys every cache)."""

    path: str
    allow_pickle: bool = False
    features: tuple[tuple[str, str, str], ...] = ()  # (modality, kg1 file, kg2 file)

    @property
    def label(self) -> str:
        return Path(self.path).name

    def features_dict(self) -> dict | None:
        if not self.features:
            return None
        return {m: (f1 or None, f2 or None) for m, f1, f2 in self.features}


def default_choice() -> DataChoice:
    """The pair a new session opens on: ``$MIMEA_APP_DATA`` when set, else the bundled sample."""
    return DataChoice(os.environ.get("MIMEA_APP_DATA") or str(DEFAULT_PAIR))


def data_choice() -> DataChoice:
    return st.session_state.get(DATA_CHOICE) or default_choice()


@st.cache_resource(show_spinner="Loading the dataset…", max_entries=4)
def load_dataset(choice: DataChoice) -> MMKGPair:
    """The pair (raises MimeaError; errors are not cached, so a fixed file loads next time)."""
    from mimea_core.data import load_pair

    return load_pair(choice.path, features=choice.features_dict(), allow_pickle=choice.allow_pickle)


def current_pair(show_error: bool = True) -> MMKGPair | None:
    """The chosen pair, or None after showing its error (the page keeps working)."""
    choice = data_choice()
    try:
        return load_dataset(choice)
    except MimeaError as err:
        if show_error:
            st.error(md(f"Cannot load {choice.path}: {err}"))
            st.info("Choose another dataset on the Data page.")
        return None


def dataset_key(pair: MMKGPair) -> str:
    """Stable key of a dataset for file names and caches: its location, name and size."""
    where = str(Path(pair.source).resolve()) if pair.source else pair.name
    text = f"{where}|{pair.name}|{pair.kg1.num_entities}|{pair.kg2.num_entities}|{pair.num_links}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:40] or "dataset"


@st.cache_resource
def _store(path: str, dataset: str) -> DecisionStore:
    return DecisionStore(path, dataset=dataset)


def store_path(pair: MMKGPair) -> Path:
    """The decision store file of a dataset (one per dataset, under the app directory)."""
    return app_dir() / "decisions" / f"{_slug(pair.name)}-{dataset_key(pair)}.sqlite"


def decision_store(pair: MMKGPair) -> DecisionStore:
    return _store(str(store_path(pair)), f"{pair.name}:{pair.kg1.num_entities}:{pair.kg2.num_entities}")


def curator() -> str:
    return str(st.session_state.get(CURATOR, "") or "").strip()


# -- runs ---------------------------------------------------------------------------------------
def run_label(info: RunInfo) -> str:
    """``NAME (finished time, H@1 x)`` for the run pickers."""
    when = datetime.fromtimestamp(info.finished, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    h1 = info.metrics.standard.get("hits@1") if info.metrics is not None else None
    score = f", H@1 {h1:.3f}" if isinstance(h1, (int, float)) else ""
    return f"{info.path.name} ({when}{score})"


def runs_for(pair: MMKGPair, root: Path | None = None) -> list[RunInfo]:
    """Finished runs under ``root`` (default ``<app dir>/runs``) trained on this dataset, newest first."""
    here = Path(pair.source).resolve() if pair.source else None
    found = []
    for info in find_runs(root or app_dir() / "runs"):
        meta = info.meta
        if meta.get("num_entities") != [pair.kg1.num_entities, pair.kg2.num_entities]:
            continue
        same_place = here is not None and Path(str(meta.get("dataset", ""))).resolve() == here
        if same_place or (pair.fingerprint and meta.get("fingerprint") == pair.fingerprint):
            found.append(info)
    return found


def new_run_dir(pair: MMKGPair, tag: str = "") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    suffix = f"-{tag}" if tag else ""
    return app_dir() / "runs" / f"{_slug(pair.name)}-{stamp}-{secrets.token_hex(2)}{suffix}"


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def load_run(run_dir: str) -> RunResult:
    from mimea_core.runs import load_run as _load

    return _load(run_dir, device="cpu")


@st.cache_resource
def job_registry() -> JobRegistry:
    return JobRegistry()


def training_job(pair: MMKGPair) -> TrainingJob | None:
    return job_registry().get(dataset_key(pair))


def start_training(
    pair: MMKGPair,
    config: MIMEAConfig,
    *,
    split=None,
    extra_seeds: np.ndarray | None = None,
    label: str = "training",
    tag: str = "",
    init_state: dict | None = None,
) -> TrainingJob:
    """Train in the background; ``init_state`` warm-starts from a model's weights (active learning)."""
    return job_registry().start(
        dataset_key(pair), label, pair, config, new_run_dir(pair, tag), split=split, extra_seeds=extra_seeds,
        init_state=init_state,
    )  # fmt: skip


def watch_job(job: TrainingJob, message: str) -> None:
    """Show ``message`` (with the job's epoch) and rerun the whole page once the job has ended, so
    a page waiting for a model fills in by itself (polled every 2 s in a fragment)."""

    @st.fragment(run_every=2.0)
    def _watch() -> None:
        snap = job.snapshot()
        if snap.status != "running":
            st.rerun(scope="app")
        st.info(message.format(epoch=snap.epoch, max_epochs=snap.max_epochs, label=snap.label))

    _watch()


def start_default_training(pair: MMKGPair) -> TrainingJob | None:
    """On a bundled sample pair, start (or return) its quick default training; None elsewhere."""
    job = training_job(pair)
    if job is None and Path(pair.source).resolve().parent == SAMPLE_ROOT.resolve():
        job = start_training(pair, quick_config(pair), label="default model for the sample data", tag="default")
    return job


def active_run(pair: MMKGPair, *, auto_train: bool = True, quiet: bool = False) -> RunResult | None:
    """The run the pages use: the one chosen in this session, else the newest for this dataset.

    With no run at all on a bundled sample pair, the quick default training starts in the
    background (no set-up needed); the pages show its progress and fill in by themselves once it
    has finished. ``quiet``: show nothing (the caller says what it shows meanwhile).
    """
    chosen = st.session_state.get(RUN_DIR)
    job = training_job(pair)
    if job is not None and not job.running and job.run_dir and chosen is None:
        chosen = job.run_dir
    if chosen is None:
        runs = runs_for(pair)
        chosen = str(runs[0].path) if runs else None
    if chosen is not None:
        try:
            return load_run(str(chosen))
        except MimeaError as err:
            st.error(md(f"Cannot load the run {chosen}: {err}"))
            st.session_state.pop(RUN_DIR, None)
            return None
    if job is None and auto_train:
        job = start_default_training(pair)
    if quiet:
        return None
    if job is not None:
        snap = job.snapshot()
        if snap.status == "failed":
            st.error(md(snap.error))
        elif snap.status == "running":
            watch_job(
                job,
                "No trained model yet: {label} is running (epoch {epoch}/{max_epochs}). "
                "Follow it on the Train page; this page fills in when it finishes.",
            )
    else:
        st.info("No trained model for this dataset yet: start one on the Train page, or load a saved run.")
    return None


@dataclass(frozen=True)
class PageContext:
    """What every analysis page needs: the dataset, its active run and their cached outputs."""

    pair: MMKGPair
    run: RunResult
    choice: DataChoice
    run_key: str
    emb: Embeddings
    store: DecisionStore

    def candidates(self) -> pd.DataFrame:
        return candidates(self.run_key, self.choice)


def page_context() -> PageContext:
    """The page's context, or stop the page (after a message) when there is no dataset or run yet."""
    pair = current_pair()
    if pair is None:
        st.stop()
    run = active_run(pair)
    if run is None:
        st.stop()
    choice = data_choice()
    run_key = str(run.run_dir)
    return PageContext(pair, run, choice, run_key, embeddings(run_key, choice), decision_store(pair))


def run_matches(run: RunResult, pair: MMKGPair) -> bool:
    return tuple(run.meta.get("num_entities", ())) == (pair.kg1.num_entities, pair.kg2.num_entities)


# -- cached derived data ------------------------------------------------------------------------
@st.cache_resource(show_spinner="Computing embeddings…", max_entries=4)
def embeddings(run_dir: str, choice: DataChoice) -> Embeddings:
    from mimea_core.inference import embed

    return embed(load_run(run_dir).model, load_dataset(choice))


@st.cache_data(show_spinner="Ranking candidates…", max_entries=8)
def candidates(run_dir: str, choice: DataChoice, top_k: int = TOP_K) -> pd.DataFrame:
    """Top-k candidates of every KG1 entity that is not a training seed, among non-seed KG2 entities
    (exact search; approximate, with faiss, for graphs past ``retrieval.AUTO_EXACT_MAX_PAIRS``)."""
    from mimea_core.candidates import suggest

    emb = embeddings(run_dir, choice)
    seeds = load_run(run_dir).seed_pairs
    n1 = emb.num_entities[0]
    sources = np.setdiff1d(np.arange(n1), seeds[:, 0])
    return suggest(emb, top_k=top_k, sources=sources, exclude_kg1=seeds[:, 0], exclude_kg2=seeds[:, 1],
                   retrieval="auto")  # fmt: skip


@st.cache_data(show_spinner="Evaluating each modality…", max_entries=8)
def modality_accuracy(run_dir: str, choice: DataChoice) -> pd.DataFrame:
    from mimea_core.evaluation import modality_accuracy as _acc

    return _acc(embeddings(run_dir, choice), load_run(run_dir).split)


@st.cache_data(show_spinner=False, max_entries=16)
def umap_map(
    run_dir: str,
    choice: DataChoice,
    space: str,
    max_points: int,
    keep: tuple[tuple[int, ...], tuple[int, ...]],
) -> pd.DataFrame:
    from mimea_core.explain import sample_entities, umap_projection

    emb = embeddings(run_dir, choice)
    n1, n2 = emb.num_entities
    ids = (sample_entities(n1, max_points, keep[0]), sample_entities(n2, max_points, keep[1]))
    return umap_projection(emb, space, seed=0, entities=ids)


@st.cache_data(show_spinner="Running inference with the change…", max_entries=16)
def whatif(
    run_dir: str,
    choice: DataChoice,
    kg: int,
    entities: tuple[int, ...],
    modality: str,
    mode: str,
    scale: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weights before/after and (for KG1 entities) the candidate ranking before/after an override."""
    from mimea_core.explain import whatif as _whatif

    run = load_run(run_dir)
    return _whatif(
        run.model, load_dataset(choice), embeddings(run_dir, choice), kg=kg, entities=np.asarray(entities),
        modality=modality, mode=mode, scale=scale, seed_pairs=run.seed_pairs, top_k=TOP_K,
    )  # fmt: skip


@st.cache_data(show_spinner="Solving the transport problem…", max_entries=32)
def transport(
    run_dir: str, choice: DataChoice, sources: tuple[int, ...], targets: tuple[int, ...], reg: float, space: str,
    gold: tuple[tuple[int, int], ...], accepted: tuple[tuple[int, int], ...],
):  # fmt: skip
    """The OT plan of a block (cached: a page change redraws it without solving again)."""
    from mimea_core.explain import transport_block

    return transport_block(
        embeddings(run_dir, choice), np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64),
        gold=np.asarray(gold, dtype=np.int64).reshape(-1, 2), accepted=np.asarray(accepted, dtype=np.int64).reshape(-1, 2),
        reg=reg, space=space,
    )  # fmt: skip
