"""Embedding map: UMAP of the joint space and of each modality, both KGs, decided pairs linked."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import charts, state

st.title("Embedding map")
ctx = state.page_context()
pair, run, choice, run_key, emb, store = ctx.pair, ctx.run, ctx.choice, ctx.run_key, ctx.emb, ctx.store

c1, c2, c3 = st.columns(3)
space = c1.selectbox("Space", ["joint", *emb.modalities], key="map_space")
max_points = c2.select_slider(
    "Points per KG", [200, 500, 1000, 2000, 5000, 20000], value=1000, key="map_points"
)
show_gold = c3.checkbox("Show gold test links", value=False, key="map_gold")

states = store.current_state()
decided = {
    d: states[(states["decision"] == d) & ~states["conflict"]][["source", "target"]].to_numpy(dtype=np.int64)
    for d in ("accept", "reject")
}
# decided pairs first, then test links: they are kept when the map is sub-sampled
linked = np.concatenate([*decided.values(), np.asarray(run.split.test, dtype=np.int64).reshape(-1, 2)])
keep = (tuple(dict.fromkeys(linked[:, 0].tolist())), tuple(dict.fromkeys(linked[:, 1].tolist())))
with st.status(f"UMAP of the {space} space…", expanded=False) as status:
    points = state.umap_map(run_key, choice, space, int(max_points), keep)
    status.update(label=f"UMAP of the {space} space: {len(points):,} points (cached)", state="complete")
links = {"accept": decided["accept"], "reject": decided["reject"]}
if show_gold:
    links["gold (test)"] = np.asarray(run.split.test, dtype=np.int64)
st.plotly_chart(
    charts.embedding_map(points, pair.kg1.names, pair.kg2.names, links, title=f"UMAP of the {space} space"),
    key="umap_chart",
)
st.caption("Decided pairs and test links are always kept in the sample. Points close together are "
           "close in the space; lines join accepted (green) and rejected (red) pairs.")  # fmt: skip
