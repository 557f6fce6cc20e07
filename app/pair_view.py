"""The pair under review: both entities side by side, the evidence, and finding another target.

Drawn by the Candidates page below the decision buttons. Evidence: attributes matched by value
across the graphs, dates shown as dates, neighbours already aligned (seeds and accepted pairs)
highlighted, per-modality similarity (model) or name/value similarity (first ranking), and the raw
numbers in a details view. "All candidates of this source" and a search over KG2 by name or URI
both lead to a candidate that can be accepted instead.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import streamlit as st

from app import charts, review, state
from app.safe import md
from mimea_core.curation.store import accepted_in
from mimea_core.data.types import MMKGPair
from mimea_core.explain import entity_card, entity_weights, pair_modalities
from mimea_core.explain.attributes import (
    aligned_neighbours,
    entity_attributes,
    matched_attributes,
    search_entities,
)


def known_pairs(ranking: review.Ranking, states: pd.DataFrame) -> np.ndarray:
    """Pairs taken as aligned for the neighbour evidence: training seeds and accepted pairs
    (``states``: the decision store's current state, already read by the page)."""
    seeds = (
        ranking.run.seed_pairs
        if ranking.run is not None
        else np.asarray(review.default_split(state.data_choice()).train).reshape(-1, 2)
    )
    accepted = accepted_in(states)
    return np.concatenate([seeds.reshape(-1, 2), accepted]).astype(np.int64)


def _entity_column(pair: MMKGPair, side: int, entity: int, aligned_names: set[str], label: str) -> None:
    kg = pair.kg1 if side == 1 else pair.kg2
    card = entity_card(kg, entity)
    st.markdown(f"**{label}** · {md(kg.name)}")
    st.text(card.name)
    st.text(card.identifier)
    if card.image:
        st.text(f"image: {card.image}")
    attrs = entity_attributes(kg, entity)
    st.caption(f"{card.degree} relation triples, {len(attrs)} attribute values")
    st.dataframe(attrs[["attribute", "value"]], hide_index=True, height=180, key=f"attrs_{label}")
    nbrs = card.neighbours[["direction", "relation", "neighbour_name"]].copy()
    nbrs.insert(0, "aligned", [n in aligned_names for n in nbrs["neighbour_name"]])
    nbrs = nbrs.sort_values("aligned", ascending=False, kind="stable")
    st.dataframe(  # aligned neighbours first, ticked (a Styler would cost a render per rerun)
        nbrs, hide_index=True, height=220, key=f"nbrs_{label}",
        column_config={"aligned": st.column_config.CheckboxColumn(help="aligned with a neighbour of the other entity")},
    )  # fmt: skip


def _candidate_picker(
    pair: MMKGPair, source: int, options: pd.DataFrame, key: str, on_accept: Callable[..., None]
) -> None:
    """A clickable list of KG2 entities (column ``entity``); picking one offers to accept it."""
    table = st.dataframe(options, hide_index=True, on_select="rerun", selection_mode="single-row", key=key)
    rows = table.selection.rows
    if rows and rows[0] < len(options):
        chosen = int(options.iloc[rows[0]]["entity"])
        st.button(
            f"Accept {pair.kg1.names[source]} → {pair.kg2.names[chosen]}", key=f"{key}_accept",
            on_click=on_accept, args=("accept", chosen),
        )  # fmt: skip


def show_pair(
    pair: MMKGPair, ranking: review.Ranking, row: pd.Series, states: pd.DataFrame, on_accept_found: Callable[..., None]
) -> None:
    source, target = int(row["source"]), int(row["target"])
    known = known_pairs(ranking, states)
    both = aligned_neighbours(pair.kg1, source, pair.kg2, target, known)
    left, right = st.columns(2)
    with left:
        _entity_column(pair, 1, source, set(both["KG1 neighbour"]), "KG1")
    with right:
        _entity_column(pair, 2, target, set(both["KG2 neighbour"]), "KG2")

    st.subheader("Why it is suggested")
    c1, c2 = st.columns(2)
    matched = matched_attributes(pair.kg1, source, pair.kg2, target)
    c1.markdown("**Attribute values that match across the graphs**")
    if len(matched):
        c1.dataframe(matched, hide_index=True, key="matched_attrs")
    else:
        c1.text("No attribute value of one entity matches one of the other.")
    c2.markdown(f"**Aligned neighbours** ({len(both)}: seeds and accepted pairs linking the two neighbourhoods)")
    if len(both):
        c2.dataframe(both, hide_index=True, key="aligned_nbrs")
    else:
        c2.text("No neighbour of one entity is aligned with a neighbour of the other.")

    c1, c2 = st.columns(2)
    if ranking.emb is not None:
        explanation = pair_modalities(ranking.emb, source, target)
        c1.plotly_chart(charts.similarity_bar(explanation), key="sim_bar")
        c2.plotly_chart(
            charts.entity_weights_bar(
                {"KG1 entity": entity_weights(ranking.emb, 1, source), "KG2 entity": entity_weights(ranking.emb, 2, target)},
                "Modality weights (mean ± sd)",
            ),
            key="weights_bar",
        )  # fmt: skip
    else:
        explanation = pd.DataFrame(
            {"signal": ["name (character n-grams)", "attribute values"],
             "cosine": [row.get("sim_name", np.nan), row.get("sim_values", np.nan)]}
        )  # fmt: skip
        c1.dataframe(explanation.round(3), hide_index=True, key="lexical_sims")

    with st.expander("Details: raw numbers"):
        raw = {k: row[k] for k in ("score", "confidence", "margin", "rank", "mutual_nn", "one_to_one", "uncertainty") if k in row}
        st.text("\n".join(f"{k}: {v:.4f}" if isinstance(v, float) else f"{k}: {v}" for k, v in raw.items()))
        cal = ranking.calibration
        st.caption(
            f"score: {'CSLS of the joint embeddings (−1..2)' if ranking.kind == review.MODEL else 'cosine of name and value n-grams (0..1)'}; "
            f"margin: score minus the runner-up's. Confidence = σ({cal.a:.2f}·score + {cal.b:.2f}·gap + {cal.c:.2f}), "
            f"fitted on {cal.n} candidate rows of validation sources ({cal.positives} right)."
        )  # fmt: skip
        if ranking.emb is not None:
            st.dataframe(explanation.round(3), hide_index=True, key="modality_sims")

    st.subheader("Another target?")
    c1, c2 = st.columns(2)
    others = ranking.cands[ranking.cands["source"] == source].sort_values("rank")
    with c1:
        st.caption("All candidates of this source (pick one to accept it instead)")
        options = pd.DataFrame({
            "entity": others["target"].astype(int).to_numpy(), "rank": others["rank"].to_numpy(),
            "candidate": [pair.kg2.names[t] for t in others["target"]], "confidence": others["confidence"].round(3).to_numpy(),
        })  # fmt: skip
        _candidate_picker(pair, source, options, f"others_{source}", on_accept_found)
    with c2:
        text = st.text_input(f"Search {pair.kg2.name or 'KG2'} by name or URI", key=f"kg2_search_{source}")
        if text.strip():
            found = search_entities(pair.kg2, text)
            if found.empty:
                st.text("No entity matches.")
            else:
                _candidate_picker(pair, source, found, f"found_{source}", on_accept_found)
