"""Helpers of the app tests: one small trained run on the sample pair and an app directory holding it.

The fixtures built on these (``trained_run``, ``app_dir``) are in conftest.py. The run lives under
pytest's session temp folder, so it is trained once per session.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mimea_core import runs

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # the app package lives beside mimea_core

SAMPLE_PAIR = REPO_ROOT / "sample_data" / "fb15k-db15k-small"
HOME = REPO_ROOT / "app" / "Home.py"
RUN_NAME = "test-run"
APP_TIMEOUT = 120  # seconds one AppTest script run may take


def make_trained_run(root: Path, dataset: Path = SAMPLE_PAIR) -> Path:
    """A 3-epoch, 32-d run on ``dataset`` (the sample pair) under ``root`` (reused when already there)."""
    run_dir = root / RUN_NAME
    if runs.is_finished(run_dir):
        return run_dir
    import torch

    from mimea_core.config import MIMEAConfig
    from mimea_core.data import load_pair
    from mimea_core.training import train

    torch.set_num_threads(2)
    pair = load_pair(str(dataset))
    train(pair, MIMEAConfig(dim=32, epochs=3, eval_every=1, num_threads=2), out_dir=run_dir)
    return run_dir


def prepare_app_dir(app_dir: Path, run_dir: Path) -> Path:
    """An app directory whose runs/ holds (a link to) the shared trained run."""
    (app_dir / "runs").mkdir(parents=True, exist_ok=True)
    link = app_dir / "runs" / RUN_NAME
    if not link.exists():
        link.symlink_to(run_dir, target_is_directory=True)
    return app_dir


def open_app(page: str | None = None, curator: str | None = "tester"):
    """An ``AppTest`` of the workbench, run once (curator name set), optionally switched to ``page``."""
    from streamlit.testing.v1 import AppTest

    from app import state

    at = AppTest.from_file(str(HOME), default_timeout=APP_TIMEOUT)
    if curator:
        at.session_state[state.CURATOR] = curator
    at.run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception, at.exception
    return at
