"""Modality weights: how MIMEA weighs each modality, how accurate each is, and a what-if control."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from app import charts, state
from app.safe import md
from mimea_core.errors import MimeaError
from mimea_core.explain import entity_weights, weight_records, weight_summary

st.title("Modality weights")
ctx = state.page_context()
pair, choice, run_key, emb = ctx.pair, ctx.choice, ctx.run_key, ctx.emb
if not emb.modalities:
    st.info("This run has no per-modality outputs.")
    st.stop()

records = weight_records(emb)
st.subheader("Distribution over entities")
summary = weight_summary(records)
summary["kg"] = summary["kg"].map({1: pair.kg1.name, 2: pair.kg2.name})
st.dataframe(summary.round(3), hide_index=True)
st.plotly_chart(charts.weight_distribution(records), key="weight_dist")

st.subheader("Per-modality accuracy (test links, KG1 → KG2, CSLS)")
st.dataframe(state.modality_accuracy(run_key, choice).round(3), hide_index=True)
st.caption("Each modality's own embedding space ranks the test links alone; 'joint' is the fused space. "
           "Coverage: share of test links with the modality on both sides.")  # fmt: skip

# -- one entity ---------------------------------------------------------------------------------
st.subheader("One entity")
c1, c2 = st.columns([1, 3])
kg_choice = c1.radio("Knowledge graph", (1, 2), format_func=lambda k: f"KG{k}", key="mw_kg", horizontal=True)
kg = pair.kg1 if kg_choice == 1 else pair.kg2
default_entity = 0
review = st.session_state.get(state.REVIEW_PAIR)
if review is not None:
    default_entity = int(review[0] if kg_choice == 1 else review[1])
entity = c2.selectbox(
    "Entity (type to search)", range(kg.num_entities), index=default_entity,
    format_func=lambda i: kg.names[i], key=f"mw_entity_{kg_choice}",
)  # fmt: skip
weights = entity_weights(emb, kg_choice, entity)
c1, c2 = st.columns(2)
c1.dataframe(weights.round(3), hide_index=True)
c2.plotly_chart(
    charts.entity_weights_bar({f"KG{kg_choice}": weights}, "Weights of the chosen entity"), key="ent_w"
)

# -- what-if ------------------------------------------------------------------------------------
st.subheader("What if a modality were missing or corrupted?")
st.caption("Inference only: the model is not changed. Choose entities, a modality and a change; the "
           "weights, their uncertainty and (for KG1 entities) the candidate ranking are recomputed.")  # fmt: skip
c1, c2, c3 = st.columns(3)
modality = c1.selectbox("Modality", emb.modalities, key="wi_modality")
mode = c2.selectbox("Change", ("mask", "noise"), key="wi_mode",
                    format_func=lambda m: {"mask": "mask (treat as missing)", "noise": "corrupt with noise"}[m])  # fmt: skip
scale = c3.slider("Noise scale", 0.1, 5.0, 1.0, key="wi_scale", disabled=mode != "noise")
picked = st.multiselect(
    f"KG{kg_choice} entities", range(kg.num_entities), default=[entity], format_func=lambda i: kg.names[i],
    key=f"wi_entities_{kg_choice}", max_selections=200,
)  # fmt: skip
if st.button("Run what-if", key="wi_run") or st.session_state.get("wi_done"):
    st.session_state["wi_done"] = True
    if not picked:
        st.info("Choose at least one entity.")
    else:
        try:
            before_after, ranking = state.whatif(
                run_key, choice, kg_choice, tuple(int(i) for i in picked), modality, mode, float(scale)
            )
        except MimeaError as err:
            st.error(md(err))
        else:
            c1, c2 = st.columns(2)
            c2.plotly_chart(charts.whatif_weights_bar(before_after), key="wi_chart")
            wide = before_after.pivot_table(
                index=["entity", "modality"], columns="when", values=["weight", "sd"]
            )
            wide.columns = [f"{a}_{b}" for a, b in wide.columns]
            wide = wide.reset_index()
            wide.insert(1, "name", [kg.names[i] for i in wide["entity"]])
            c1.dataframe(wide.round(3), hide_index=True)
            if len(ranking):
                names2 = pair.kg2.names
                table = pd.DataFrame(
                    {
                        "source": [pair.kg1.names[s] for s in ranking["source"]],
                        "top-1 before": [names2[t] for t in ranking["top_before"]],
                        "top-1 after": [names2[t] if t >= 0 else "" for t in ranking["top_after"]],
                        "old top-1 rank after": ranking["old_top_rank_after"],
                        "score before": ranking["score_before"].round(3),
                        "score after": ranking["score_after"].round(3),
                        "margin before": ranking["margin_before"].round(3),
                        "margin after": ranking["margin_after"].round(3),
                    }
                )
                changed = int((ranking["top_before"] != ranking["top_after"]).sum())
                old_ranks = np.asarray(ranking["old_top_rank_after"], dtype=float)
                old_ranks = old_ranks[np.isfinite(old_ranks)]
                mean_rank = f"{old_ranks.mean():.2f}" if len(old_ranks) else "n/a (none is still a candidate)"
                st.text(f"Top-1 candidate changed for {changed} of {len(ranking)} entities; "
                        f"mean rank of the old top-1 now {mean_rank}")  # fmt: skip
                st.dataframe(table, hide_index=True)
