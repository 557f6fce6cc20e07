"""Home / Data: choose the pair (bundled sample, local folder or .toml, or uploads) and inspect it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app import state
from app.safe import md
from app.uploads import UPLOAD_TYPES, write_upload_pair
from mimea_core.data.summary import kg_summary
from mimea_core.errors import MimeaError

st.title("MIMEA workbench")
st.caption(
    "Multi-modal entity alignment between two knowledge graphs: train the model, review its "
    "suggested pairs, see how it weighs each modality, and export what you accept."
)

SOURCES = ("Bundled sample", "Local folder or pair file", "Upload files")
bundled = state.bundled_pairs()
current = state.data_choice()
on_bundled = Path(current.path).resolve() in {p.resolve() for p in bundled.values()}
source = st.radio("Dataset source", SOURCES, index=0 if on_bundled else 1, horizontal=True, key="data_source")


def use(choice: state.DataChoice) -> None:
    if choice != state.data_choice():
        st.session_state[state.DATA_CHOICE] = choice
        st.session_state.pop(state.RUN_DIR, None)
        st.session_state.pop(state.REVIEW_PAIR, None)
        st.rerun()  # the sidebar (drawn before this page) names the new dataset


if source == SOURCES[0]:
    if not bundled:
        st.warning("No bundled sample pairs found in sample_data/.")
    else:
        names = list(bundled)
        here = Path(current.path).name
        choice = st.selectbox(
            "Sample pair", names, index=names.index(here) if here in names else 0, key="bundled_pair"
        )
        use(state.DataChoice(str(bundled[choice])))
elif source == SOURCES[1]:
    with st.form("local_form"):
        path = st.text_input(
            "Folder holding one pair, or a *.toml pair description", key="local_path",
            placeholder="/data/my-pair or datasets/fb15k-db15k.toml", value="" if on_bundled else current.path,
        )  # fmt: skip
        st.caption(
            "Optional extra visual features (.npy with a *_ids.txt beside it, or .pkl when allowed below):"
        )
        c1, c2 = st.columns(2)
        vis1 = c1.text_input("KG1 visual features file", key="local_vis1")
        vis2 = c2.text_input("KG2 visual features file", key="local_vis2")
        allow_pickle = st.checkbox(
            "Allow pickled feature files from this local path (a pickle can run code: only for files you trust)",
            key="allow_pickle",
        )
        submitted = st.form_submit_button("Load")
    if submitted:
        if not path.strip():
            st.error("Enter a folder or a .toml file path.")
        else:
            features = (("visual", vis1.strip(), vis2.strip()),) if (vis1.strip() or vis2.strip()) else ()
            use(
                state.DataChoice(
                    str(Path(path.strip()).expanduser()), allow_pickle=allow_pickle, features=features
                )
            )
else:
    st.caption(
        f"Our TSV layout (see the README): text/TSV files and .npy matrices only, at most "
        f"{state.MAX_UPLOAD_MB} MB each; pickles are never accepted from uploads."
    )
    with st.form("upload_form"):
        links = st.file_uploader(
            "Gold links: links.tsv (kg1 entity <TAB> kg2 entity)", type=["tsv", "txt"], key="up_links"
        )
        kg1 = st.file_uploader(
            "KG1 files: triples.tsv (required), attributes.tsv, names.tsv, images.tsv, visual.npy + visual_ids.txt",
            type=UPLOAD_TYPES, accept_multiple_files=True, key="up_kg1",
        )  # fmt: skip
        kg2 = st.file_uploader(
            "KG2 files (same names)", type=UPLOAD_TYPES, accept_multiple_files=True, key="up_kg2"
        )
        submitted = st.form_submit_button("Load uploaded pair")
    if submitted:
        try:
            folder = write_upload_pair(
                (links.name, links.getvalue()) if links is not None else None,
                [(f.name, f.getvalue()) for f in kg1 or []],
                [(f.name, f.getvalue()) for f in kg2 or []],
                state.app_dir() / "uploads",
                state.MAX_UPLOAD_MB * 2**20,
            )
        except MimeaError as err:
            st.error(f"Upload refused: {md(err)}")
        else:
            use(state.DataChoice(str(folder)))

pair = state.current_pair()
if pair is None:
    st.stop()

st.subheader(pair.name)
st.text(f"Loaded from {pair.source}")
summaries = [kg_summary(pair.kg1), kg_summary(pair.kg2)]
counts = pd.DataFrame(
    [
        {
            "KG": s["name"], "entities": s["entities"], "relations": s["relations"], "triples": s["triples"],
            "attributes": s["attributes"], "attribute triples": s["attribute_triples"],
            "duplicate triples dropped": s["dropped_duplicate_triples"],
        }
        for s in summaries
    ]
)  # fmt: skip
c1, c2, c3 = st.columns(3)
c1.metric("Gold links", f"{pair.num_links:,}")
c2.metric("KG1 entities", f"{pair.kg1.num_entities:,}")  # labels render markdown: no data in them
c3.metric("KG2 entities", f"{pair.kg2.num_entities:,}")
st.dataframe(counts, hide_index=True, width="stretch")
coverage = pd.DataFrame({s["name"]: s["coverage"] for s in summaries}).T
st.markdown("**Modality coverage** (share of entities that have each modality)")
st.dataframe(coverage.style.format("{:.0%}"), width="stretch")
if pair.warnings:
    with st.expander(f"{len(pair.warnings)} warning(s) while reading"):
        for warning in pair.warnings[:200]:
            st.text(warning)

run_infos = state.runs_for(pair)
if run_infos:
    st.success(
        f"{len(run_infos)} trained run(s) for this dataset; the newest is used unless you pick one on Train."
    )
else:
    state.active_run(pair)  # on a bundled sample pair this starts the quick default training
