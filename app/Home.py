"""Entrypoint of the MIMEA workbench: ``streamlit run app/Home.py --server.address 127.0.0.1``.

Sets up the page list (``st.navigation``) and the sidebar (curator name, current dataset/run).
Pages are short scripts that call ``mimea_core`` through :mod:`app.state`.

The page scripts live in ``app/views/``, not ``app/pages/``: Streamlit treats a ``pages/`` folder
beside the main script as a legacy multipage app, lists its raw files in the sidebar before
``st.navigation`` has run, and runs them without this file (no curator field). Every page has its
own URL (``/data``, ``/candidates``, ...); the root URL forwards to ``/data``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/Home.py` puts app/ on the path, not the project
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import state  # noqa: E402
from app.safe import md  # noqa: E402
from mimea_core.errors import MimeaError  # noqa: E402

# a local favicon: an emoji or icon name would make the browser fetch one from an outside host
st.set_page_config(page_title="MIMEA workbench", page_icon=str(Path(__file__).parent / "favicon.png"), layout="wide")

PAGES = Path(__file__).parent / "views"
DATA_PAGE = st.Page(PAGES / "data.py", title="Home / Data", icon=":material/database:", url_path="data")


def _root() -> None:
    """The root URL: forward to the data page, so that ``/data`` is a real address of it."""
    st.switch_page(DATA_PAGE)


pages = [
    st.Page(_root, title="MIMEA workbench", url_path="start", default=True, visibility="hidden"),
    DATA_PAGE,
    st.Page(PAGES / "train.py", title="Train", icon=":material/model_training:", url_path="train"),
    st.Page(PAGES / "candidates.py", title="Candidates", icon=":material/fact_check:", url_path="candidates"),
    st.Page(
        PAGES / "modalities.py", title="Modality weights", icon=":material/balance:", url_path="modalities"
    ),
    st.Page(PAGES / "transport.py", title="Transport plan", icon=":material/grid_on:", url_path="transport"),
    st.Page(
        PAGES / "embedding_map.py", title="Embedding map", icon=":material/scatter_plot:", url_path="map"
    ),
    st.Page(
        PAGES / "decisions.py", title="Decisions & export", icon=":material/history:", url_path="decisions"
    ),
]
page = st.navigation(pages)

with st.sidebar:
    st.text_input(
        "Curator name",
        key=state.CURATOR,
        placeholder="your name or ORCID",
        help="Recorded with every decision you make.",
    )
    name_hint = st.empty()  # one fixed slot: the captions below keep their place when it empties
    if not state.curator():
        name_hint.caption("Enter your name to record decisions.")
    st.caption(f"Dataset: {state.data_choice().label}")
    chosen_run = st.session_state.get(state.RUN_DIR)
    if chosen_run:
        st.caption(f"Run: {Path(chosen_run).name}")

try:
    page.run()
except MimeaError as err:  # a user-facing error (bad setting, bad file) is a message, never a traceback
    st.error(md(str(err)))
