"""Entrypoint of the MIMEA workbench: ``streamlit run app/Home.py --server.address 127.0.0.1``.

Sets up the page list (``st.navigation``) and the sidebar (curator name, current dataset/run).
Pages are short scripts that call ``mimea_core`` through :mod:`app.state`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/Home.py` puts app/ on the path, not the project
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import state  # noqa: E402

st.set_page_config(page_title="MIMEA workbench", page_icon=":material/link:", layout="wide")

PAGES = Path(__file__).parent / "pages"
pages = [
    st.Page(
        PAGES / "data.py", title="Home / Data", icon=":material/database:", default=True, url_path="data"
    ),
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
    if not state.curator():
        st.caption("Enter your name to record decisions.")
    st.caption(f"Dataset: {state.data_choice().label}")
    chosen_run = st.session_state.get(state.RUN_DIR)
    if chosen_run:
        st.caption(f"Run: {Path(chosen_run).name}")

page.run()
