"""Candidates: the review queue. Pick a pair, compare the two entities, accept / reject / skip."""

from __future__ import annotations

import hashlib
import uuid

import streamlit as st

from app import active, pair_view, review, state
from app.safe import md
from app.shortcuts import review_shortcuts
from mimea_core.curation import ORDERINGS, filter_queue, next_undecided, order_queue, review_queue
from mimea_core.curation.onetoone import accepted_elsewhere
from mimea_core.errors import MimeaError

st.title("Candidates")
pair = state.current_pair()
if pair is None:
    st.stop()
active.adopt_finished(pair)  # a relearned model (active learning) is used before the queue is drawn
ranking = review.current_ranking(pair)
review.ranking_note(pair, ranking)
store = state.decision_store(pair)
no_match = store.no_counterpart_sources()
decided = store.current_state()  # the decision log, folded once for this page run
active.mode_panel(pair, ranking.run, decided, len(no_match))
cands = ranking.cands
all_ranks = st.session_state.get("q_all_ranks", False)
queue = review_queue(cands, decided, pair, top1_only=not all_ranks, no_match=no_match)
if st.session_state.get(active.MODE) and ranking.kind == review.MODEL:  # the measured strategy's order
    queue = active.informative_queue(queue, pair, ranking.run, decided, st.session_state.get(active.BATCH, active.DEFAULT_BATCH))


def to_top_of_order() -> None:
    """A new order starts at its top: forget the pair under review and the table selection."""
    st.session_state.pop(state.REVIEW_PAIR, None)
    st.session_state["queue_version"] = st.session_state.get("queue_version", 0) + 1


# -- filters ------------------------------------------------------------------------------------
with st.expander("Filter and order", expanded=False):
    c1, c2, c3 = st.columns(3)
    ordering = c1.selectbox(
        "Order", ORDERINGS, key="q_order", on_change=to_top_of_order,
        help="Highest score first: likely matches first. Most informative first: the pairs whose "
        "label teaches a retrained model most (small margin, uncertain modality weights).",
    )  # fmt: skip
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
        ["undecided", "accept", "reject", "skip", "conflict", "retired"],
        default=["undecided"],
        key="q_states",
    )
filtered = order_queue(
    filter_queue(queue, min_score=min_score, max_margin=max_margin, states=states, search=search), ordering
)
undecided = int((queue["state"] == "undecided").sum())
retired = int((queue["state"] == "retired").sum())
st.caption(f"{len(filtered):,} of {len(queue):,} suggested pairs shown; {undecided:,} undecided; "
           f"{retired:,} retired (source or target already accepted elsewhere, or no counterpart).")  # fmt: skip

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
    shown[["source_name", "target_name", *(["rank"] if all_ranks else []), "confidence", "mutual_nn",
           "one_to_one", "state"]].assign(confidence=shown["confidence"] * 100),  # whole percents: no false precision
    column_config={
        "source_name": st.column_config.TextColumn(pair.kg1.name[:30] or "KG1"),
        "target_name": st.column_config.TextColumn(pair.kg2.name[:30] or "KG2"),
        "confidence": st.column_config.ProgressColumn(
            "confidence", help=review.CONFIDENCE_HELP, format="%.0f%%", min_value=0.0, max_value=100.0
        ),
        "mutual_nn": st.column_config.CheckboxColumn("mutual best", help="each is the other's top candidate"),
        "one_to_one": st.column_config.CheckboxColumn("1:1", help="kept by a global one-to-one matching"),
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
c1, c2, c3, c4, c5, c6 = st.columns([3, 1, 1, 1, 1.4, 1.6])
note_key = f"note_{source}_{target}"
c1.text_input("Note (optional)", key=note_key, placeholder="why, evidence, doubts…")
order = list(zip(filtered["source"].astype(int), filtered["target"].astype(int), strict=True))
undecided_now = set(
    zip(filtered.loc[filtered["state"] == "undecided", "source"].astype(int),
        filtered.loc[filtered["state"] == "undecided", "target"].astype(int), strict=True)
)  # fmt: skip


def advance(done_source: int, done_target: int | None, *, retire: bool) -> None:
    """Review the next undecided pair after this one in the queue order (skipping, after an accept
    or a "no counterpart", the pairs it retires)."""
    start = order.index((source, target)) + 1 if (source, target) in order else 0
    ring = order[start:] + order[:start]

    def still_open(p: tuple[int, int]) -> bool:
        if p not in undecided_now or p == (source, target):
            return False
        return not retire or (p[0] != done_source and (done_target is None or p[1] != done_target))

    st.session_state[state.REVIEW_PAIR] = next((p for p in ring if still_open(p)), None)
    st.session_state["queue_version"] = version + 1


def action_token(tgt: int) -> str:
    """One token per shown decision form (pair): the store records one row per token."""
    return st.session_state.setdefault(f"action_{source}_{tgt}", uuid.uuid4().hex)


action_id = action_token(target)


def decide(decision: str, token: str, chosen_target: int | None = None) -> None:
    """Button/key callback: runs before the next script run, so one click costs one page run.

    ``token`` was bound when the form was drawn; the store records one row per token, so an action
    delivered twice (a key Streamlit also reacts to, a double click) is recorded exactly once.
    ``chosen_target``: accept another target than the suggested one (found by search or picked
    among the source's candidates).
    """
    tgt = target if chosen_target is None else int(chosen_target)
    clash = accepted_elsewhere(store.current_state(), source, tgt) if decision == "accept" else None
    try:
        store.record(source, tgt, decision, state.curator(), note=st.session_state.get(note_key, ""),
                     action_id=token)  # fmt: skip
    except MimeaError as err:
        st.session_state["decision_error"] = str(err)
        return
    if st.session_state.get(f"action_{source}_{tgt}") == token:  # the next decision here is a new action
        st.session_state[f"action_{source}_{tgt}"] = uuid.uuid4().hex
    advance(source, tgt, retire=decision == "accept")
    st.session_state["last_decision"] = f"{decision}: {row['source_name']} → {pair.kg2.names[tgt]}"
    if clash is not None and len(clash):
        others = "; ".join(f"{pair.kg1.names[int(s)]} → {pair.kg2.names[int(t)]}"
                           for s, t in zip(clash["source"], clash["target"], strict=True))  # fmt: skip
        st.session_state["decision_warning"] = (
            f"One-to-one conflict: {others} is already accepted with the same source or target. Both "
            "pairs are flagged as conflicts (left out of exports) until one is rejected."
        )


def accept_other(decision: str, chosen_target: int) -> None:
    decide(decision, action_token(int(chosen_target)), chosen_target)


def no_counterpart() -> None:
    store = state.decision_store(pair)
    if source in store.no_counterpart_sources():  # delivered twice: one decision
        return
    try:
        store.record_no_counterpart(source, state.curator(), note=st.session_state.get(note_key, ""),
                                    action_id=f"{action_id}-none")  # fmt: skip
    except MimeaError as err:
        st.session_state["decision_error"] = str(err)
        return
    advance(source, None, retire=True)
    st.session_state["last_decision"] = f"no counterpart in KG2: {row['source_name']}"


c2.button("Accept (a)", key="accept", type="primary", on_click=decide, args=("accept", action_id))
c3.button("Reject (r)", key="reject", on_click=decide, args=("reject", action_id))
c4.button("Skip (s)", key="skip", on_click=decide, args=("skip", action_id))
c5.button("No counterpart (n)", key="no_match", on_click=no_counterpart,
          help=f"This {pair.kg1.name or 'KG1'} entity has no match in {pair.kg2.name or 'KG2'}: retire all its candidates.")  # fmt: skip
review_shortcuts(accept="a", reject="r", skip="s", no_match="n")
c6.markdown(f"**{row['confidence']:.0%}** likely right", help=review.CONFIDENCE_HELP)
c6.text(f"state: {row['state']}")
if "decision_error" in st.session_state:
    st.error(md(st.session_state.pop("decision_error")))
if "decision_warning" in st.session_state:
    st.warning(md(st.session_state.pop("decision_warning")))

pair_view.show_pair(pair, ranking, row, decided, on_accept_found=accept_other)
