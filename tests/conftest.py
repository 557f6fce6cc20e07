"""Shared fixtures (a test asks for them by name; nothing needs importing).

- ``data_root``: the real benchmark data; real-data tests skip with a reason when it is absent on a
  user's fresh clone (``$MIMEA_DATA``, default ``../shared/data``), and fail when ``CI`` is set.
- ``tiny_pair`` / ``tiny_split`` / ``fast_config``: the synthetic 60-entity pair of :mod:`tiny`, a
  split of it and a configuration that trains on it in about a second.
- ``trained_run`` (session) and ``app_dir``: a 3-epoch run on the sample pair, and a fresh app
  directory holding it with ``MIMEA_APP_DIR`` pointing there (see :mod:`apprun`).

Reusable test cases for components (encoders, fusions, readers, losses) are in :mod:`cases`.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from apprun import make_trained_run, prepare_app_dir
from tiny import FAST, make_tiny_pair
from tiny import tiny_split as _tiny_split

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DATA = REPO_ROOT / "sample_data"

# Keep torch and BLAS from oversubscribing the 2-core machine in tests.
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _data_root() -> Path:
    return Path(os.environ.get("MIMEA_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The real benchmark data root; skip (or fail on CI) when it is absent."""
    root = _data_root()
    if not (root / "mmkb_offline").is_dir():
        message = f"real benchmark data not found at {root} (set MIMEA_DATA)"
        if os.environ.get("CI"):
            pytest.fail(message + " -- CI must have it")
        pytest.skip(message)
    return root


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def sample_data_dir() -> Path:
    return SAMPLE_DATA


@pytest.fixture(scope="session")
def tiny_pair():
    """The 60-entity synthetic pair (no visual features); do not mutate it."""
    return make_tiny_pair()


@pytest.fixture(scope="session")
def tiny_split(tiny_pair):
    return _tiny_split(tiny_pair)


@pytest.fixture(scope="session")
def fast_config():
    return FAST


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    return make_trained_run(tmp_path_factory.getbasetemp() / "mimea-app-runs")


@pytest.fixture
def app_dir(tmp_path, trained_run, monkeypatch) -> Path:
    """A fresh app directory (own decision store) with the trained run; MIMEA_APP_DIR points at it."""
    folder = prepare_app_dir(tmp_path / "mimea-app", trained_run)
    monkeypatch.setenv("MIMEA_APP_DIR", str(folder))
    return folder
