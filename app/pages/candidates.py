"""Candidates: the review queue. Pick a pair, compare the two entities, accept / reject / skip."""

from __future__ import annotations

import hashlib
import uuid

import pandas as pd
import streamlit as st

from app import charts, state
from app.safe import md
from app.shortcuts import review_shortcuts
from mimea_core.curation import ORDERINGS, filter_queue, next_undecided, order_queue, review_queue
from mimea_core.errors import MimeaError
from mimea_core.explain import entity_card, entity_weights, pair_modalities

st.title("Candidates")
ctx = state.page_context()
pair, emb, store = ctx.pair, ctx.emb, ctx.store
cands = ctx.candidates()
all_ranks = st.session_state.get("q_all_ranks", False)
queue = review_queue(cands, store.current_state(), pair, top1_only=not all_ranks)

# -- filters ------------------------------------------------------------------------------------
with st.expander("Filter and order", expanded=False):
    c1, c2, c3 = st.columns(3)
    ordering = c1.selectbox("Order", ORDERINGS, key="q_order")
    search = c1.text_input("Search names", key="q_search")
    lo, hi = (
        float(queue["score"].min() if len(queue) else 0),
        float(queue["score"].max() if len(queue) else 1),
    )
    min_score = c2.slider("Minimum score", min(lo, 0.0), max(hi, 1.0), min(lo, 0.0), key="q_min_score")
    max_margin = c2.slider("Maximum margin", 0.0, max(float(queue["margin"].max() if len(queue) else 1), 1.0),
                           max(float(queue["margin"].max() if len(queue) else 1), 1.0), key="q_max_margin")  # fmt: skip
    c3.toggle("Every candidate of each source (not only its top one)", key="q_all_ranks")
    states = c3.multiselect(
        "Decision state",
        ["undecided", "accept", "reject", "skip", "conflict"],
        default=["undecided"],
        key="q_states",
    )
filtered = order_queue(
    filter_queue(queue, min_score=min_score, max_margin=max_margin, states=states, search=search), ordering
)
undecided = int((queue["state"] == "undecided").sum())
st.caption(f"{len(filtered):,} of {len(queue):,} suggested pairs shown; {undecided:,} undecided. "
           "Most informative first = small margin to the runner-up and uncertain modality weights.")  # fmt: skip

if st.session_state.get("last_decision"):
    st.text(f"Last recorded: {st.session_state['last_decision']}")

# -- the pair under review ----------------------------------------------------------------------
pairs_shown = set(zip(filtered["source"].astype(int), filtered["target"].astype(int), strict=True))
version = st.session_state.setdefault("queue_version", 0)
shown = filtered.head(300)
shown_pairs = list(zip(shown["source"].astype(int), shown["target"].astype(int), strict=True))


# The table's key carries a digest of the rows it shows: a filter, search or order change makes a new
# table with no selection, so a selected row number always refers to the rows it was selected in
# and is turned into its (source, target) pair at once.
table_key = f"queue_table_{version}_{hashlib.sha1(repr(shown_pairs).encode()).hexdigest()[:12]}"
table = st.dataframe(
    shown[["source_name", "target_name", *(["rank"] if all_ranks else []), "score", "margin", "mutual_nn",
           "one_to_one", "uncertainty", "state"]],
    column_config={
        "source_name": st.column_config.TextColumn(pair.kg1.name[:30] or "KG1"),
        "target_name": st.column_config.TextColumn(pair.kg2.name[:30] or "KG2"),
        "score": st.column_config.NumberColumn(format="%.3f"),
        "margin": st.column_config.NumberColumn(format="%.3f"),
        "uncertainty": st.column_config.NumberColumn("weight sd", format="%.3f"),
    },
    hide_index=True, on_select="rerun", selection_mode="single-row", key=table_key, height=260,
)  # fmt: skip
current = st.session_state.get(state.REVIEW_PAIR)
selected = [i for i in table.selection.rows if 0 <= i < len(shown_pairs)]
if selected:
    current = shown_pairs[selected[0]]
if current is not None and tuple(current) not in pairs_shown:  # the filters moved on: follow them
    current = None
if current is None:
    current = next_undecided(filtered) or (
        (int(filtered.loc[0, "source"]), int(filtered.loc[0, "target"])) if len(filtered) else None
    )
if current is None:
    st.info("No pair matches the filters. Widen them, or all pairs are decided.")
    st.stop()
st.session_state[state.REVIEW_PAIR] = tuple(current)
source, target = current
row = queue[(queue["source"] == source) & (queue["target"] == target)].iloc[0]

# -- decision -----------------------------------------------------------------------------------
st.divider()
c1, c2, c3, c4, c5 = st.columns([3, 1, 1, 1, 2])
note_key = f"note_{source}_{target}"
c1.text_input("Note (optional)", key=note_key, placeholder="why, evidence, doubts…")
order = list(zip(filtered["source"].astype(int), filtered["target"].astype(int), strict=True))
undecided_now = set(
    zip(filtered.loc[filtered["state"] == "undecided", "source"].astype(int),
        filtered.loc[filtered["state"] == "undecided", "target"].astype(int), strict=True)
)  # fmt: skip


action_key = f"action_{source}_{target}"
action_id = st.session_state.setdefault(action_key, uuid.uuid4().hex)  # one token per shown decision form


def decide(decision: str, token: str) -> None:
    """Button/key callback: runs before the next script run, so one click costs one page run.

    ``token`` was bound when the form was drawn; the store records one row per token, so an action
    delivered twice (a key Streamlit also reacts to, a double click) is recorded exactly once.
    """
    try:
        store.record(source, target, decision, state.curator(), note=st.session_state.get(note_key, ""),
                     action_id=token)  # fmt: skip
    except MimeaError as err:
        st.session_state["decision_error"] = str(err)
        return
    if st.session_state.get(action_key) == token:  # the next decision on this pair is a new action
        st.session_state[action_key] = uuid.uuid4().hex
    start = order.index((source, target)) + 1 if (source, target) in order else 0
    ring = order[start:] + order[:start]
    st.session_state[state.REVIEW_PAIR] = next(
        (p for p in ring if p in undecided_now and p != (source, target)), None
    )
    st.session_state["queue_version"] = version + 1
    st.session_state["last_decision"] = f"{decision}: {row['source_name']} → {row['target_name']}"


c2.button("Accept (a)", key="accept", type="primary", on_click=decide, args=("accept", action_id))
c3.button("Reject (r)", key="reject", on_click=decide, args=("reject", action_id))
c4.button("Skip (s)", key="skip", on_click=decide, args=("skip", action_id))
review_shortcuts(accept="a", reject="r", skip="s")
c5.text(f"state: {row['state']}\nscore {row['score']:.3f}, margin {row['margin']:.3f}")
if "decision_error" in st.session_state:
    st.error(md(st.session_state.pop("decision_error")))

# -- side by side -------------------------------------------------------------------------------
left, right = st.columns(2)
for column, kg, entity, label in ((left, pair.kg1, source, "KG1"), (right, pair.kg2, target, "KG2")):
    card = entity_card(kg, entity)
    with column:
        st.markdown(f"**{label}** · {md(kg.name)}")
        st.text(card.name)
        st.text(card.identifier)
        if card.image:
            st.text(f"image: {card.image}")
        st.caption(f"{card.degree} relation triples, {len(card.attributes)} attribute values shown")
        st.dataframe(card.attributes, hide_index=True, height=180, key=f"attrs_{label}")
        st.dataframe(card.neighbours[["direction", "relation", "neighbour_name"]], hide_index=True,
                     height=220, key=f"nbrs_{label}")  # fmt: skip

st.subheader("Why the model suggests it")
explanation = pair_modalities(emb, source, target)
c1, c2 = st.columns(2)
c1.dataframe(explanation.round(3), hide_index=True)
c1.plotly_chart(charts.similarity_bar(explanation), key="sim_bar")
c2.plotly_chart(
    charts.entity_weights_bar(
        {"KG1 entity": entity_weights(emb, 1, source), "KG2 entity": entity_weights(emb, 2, target)},
        "Modality weights (mean ± sd)",
    ),
    key="weights_bar",
)
others = cands[cands["source"] == source].sort_values("rank")
c2.caption("All candidates of this source")
c2.dataframe(
    pd.DataFrame({"rank": others["rank"], "candidate": [pair.kg2.names[t] for t in others["target"]],
                  "score": others["score"].round(3)}),
    hide_index=True, key="others",
)  # fmt: skip
