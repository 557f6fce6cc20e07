"""Transport plan: the entropic OT plan between a block of KG1 entities and their candidates."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app import charts, state
from mimea_core.curation import filter_queue, order_queue, review_queue
from mimea_core.explain import block_targets

st.title("Transport plan")
ctx = state.page_context()
pair, choice, run_key, emb, store = ctx.pair, ctx.choice, ctx.run_key, ctx.emb, ctx.store
cands = ctx.candidates()
queue = review_queue(cands, store.current_state(), pair)

c1, c2, c3, c4 = st.columns(4)
by = c1.selectbox("Block of KG1 entities", ("most uncertain", "highest score", "name search"), key="ot_by")
size = c2.slider("Rows (KG1 entities)", 50, 200, 60, step=10, key="ot_size")
space = c3.selectbox("Space", ["joint", *emb.modalities], key="ot_space")
reg = c4.select_slider("Entropic regularisation ε", [0.01, 0.02, 0.05, 0.1, 0.2], value=0.05, key="ot_reg")
query = st.text_input("Name contains", key="ot_query", disabled=by != "name search")

if by == "name search":
    rows = filter_queue(queue, search=query) if query.strip() else queue.iloc[:0]
    rows = order_queue(rows, "highest score first")
else:
    rows = order_queue(queue, "most informative first" if by == "most uncertain" else "highest score first")
sources = rows["source"].to_numpy(dtype=np.int64)[:size]
if len(sources) == 0:
    st.info("No KG1 entity matches; type part of a name, or choose another block.")
    st.stop()
targets = block_targets(cands, sources, pair.links, max_targets=int(size * 1.5))
block = state.transport(
    run_key, choice, tuple(sources.tolist()), tuple(targets.tolist()), float(reg), space,
    tuple(map(tuple, pair.links.tolist())), tuple(map(tuple, store.accepted_pairs().tolist())),
)  # fmt: skip
st.caption(f"{len(sources)} KG1 entities × {len(targets)} KG2 candidates (their gold targets first, then "
           "their top-ranked candidates). Each row is a distribution over the columns; × gold, ○ accepted.")  # fmt: skip
st.plotly_chart(charts.transport_heatmap(block, pair.kg1.names, pair.kg2.names), key="ot_heatmap")
argmax = block.plan.argmax(axis=1)
gold_rows = {int(r): int(c) for r, c in block.gold}
agree = sum(1 for r, c in gold_rows.items() if argmax[r] == c)
st.text(
    f"Plan's top column is the gold target for {agree} of {len(gold_rows)} rows with a gold target in the block."
)
