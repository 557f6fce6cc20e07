"""Shared fixtures.

Real-data tests use the ``data_root`` fixture: they skip with a reason when the benchmark data
(``$MIMEA_DATA``, default ``../shared/data``) is absent on a user's fresh clone, and fail instead
when ``CI`` is set, since CI always has it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
