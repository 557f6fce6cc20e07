"""Plotly figures drawn from explanation records (no model logic here).

Hover texts come from data (entity names): plotly renders a few HTML tags in hover labels, so every
data string is HTML-escaped first and shows literally.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from mimea_core.explain import TransportBlock

KG_COLOURS = {1: "#1f77b4", 2: "#ff7f0e"}
DECISION_COLOURS = {"accept": "#2ca02c", "reject": "#d62728"}


def inert(text: object) -> str:
    """A data string made safe for plotly labels (shown literally)."""
    return html.escape(str(text), quote=False)


def _layout(fig: go.Figure, title: str, height: int = 380) -> go.Figure:
    fig.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return fig


def weight_distribution(records: pd.DataFrame) -> go.Figure:
    """Box plot of each modality's weight over entities that have it, per KG."""
    fig = go.Figure()
    for kg, group in records[records["present"]].groupby("kg"):
        fig.add_trace(
            go.Box(
                x=group["modality"], y=group["weight"], name=f"KG{kg}",
                marker_color=KG_COLOURS.get(int(kg)), boxmean=True,
            )
        )  # fmt: skip
    fig.update_layout(boxmode="group", yaxis_title="fusion weight (Beta mean)")
    return _layout(fig, "Modality weights over entities")


def entity_weights_bar(frames: dict[str, pd.DataFrame], title: str) -> go.Figure:
    """Bars of weight ± sd per modality, one bar group per entity (label -> entity_weights frame)."""
    fig = go.Figure()
    for i, (label, frame) in enumerate(frames.items()):
        fig.add_trace(
            go.Bar(
                x=frame["modality"], y=frame["weight"], name=inert(label),
                error_y={"type": "data", "array": frame["sd"], "visible": True},
                marker_color=KG_COLOURS.get(i + 1),
            )
        )  # fmt: skip
    fig.update_layout(barmode="group", yaxis_title="weight (mean ± sd)", yaxis_range=[0, 1])
    return _layout(fig, title, height=320)


def similarity_bar(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure(go.Bar(x=frame["modality"], y=frame["similarity"], marker_color="#7f7f7f"))
    fig.update_layout(yaxis_title="cosine similarity", yaxis_range=[-1, 1])
    return _layout(fig, "Per-modality similarity of the pair", height=280)


def whatif_weights_bar(frame: pd.DataFrame) -> go.Figure:
    """Mean weight ± sd per modality before and after the override (over the chosen entities)."""
    summary = frame.groupby(["when", "modality"], sort=False).agg(
        weight=("weight", "mean"), sd=("sd", "mean")
    )
    fig = go.Figure()
    for when in ("before", "after"):
        if when not in summary.index.get_level_values(0):
            continue
        part = summary.loc[when].reset_index()
        fig.add_trace(
            go.Bar(
                x=part["modality"], y=part["weight"], name=when,
                error_y={"type": "data", "array": part["sd"], "visible": True},
            )
        )  # fmt: skip
    fig.update_layout(barmode="group", yaxis_title="mean weight (± mean sd)", yaxis_range=[0, 1])
    return _layout(fig, "What-if: modality weights before and after", height=320)


def transport_heatmap(block: TransportBlock, names1: list[str], names2: list[str]) -> go.Figure:
    """Heatmap of the plan (rows: KG1 entities, columns: KG2), gold (×) and accepted (○) marked.

    The axes are categorical with one label per entity (``name #id``, unique even when names repeat),
    so hover shows both names without a per-cell text matrix (a much smaller figure to send).
    """
    rows = [f"{inert(names1[i])} #{i}" for i in block.sources]
    cols = [f"{inert(names2[j])} #{j}" for j in block.targets]
    fig = go.Figure(
        go.Heatmap(
            z=block.plan, x=cols, y=rows, colorscale="Blues", colorbar={"title": "mass"},
            hovertemplate="%{y} → %{x}<br>mass %{z:.3f}<extra></extra>",
        )
    )  # fmt: skip
    marks = (("gold", block.gold, "x", "#d62728"), ("accepted", block.accepted, "circle-open", "#2ca02c"))
    for label, pos, symbol, colour in marks:
        if len(pos):
            fig.add_trace(
                go.Scatter(
                    x=[cols[j] for j in pos[:, 1]], y=[rows[i] for i in pos[:, 0]], mode="markers", name=label,
                    marker={"symbol": symbol, "size": 9, "color": colour, "line": {"width": 2, "color": colour}},
                    hovertemplate=label + ": %{y} → %{x}<extra></extra>",
                )
            )  # fmt: skip
    fig.update_layout(
        xaxis={"title": "KG2 entities", "showticklabels": False, "type": "category"},
        yaxis={"title": "KG1 entities", "showticklabels": False, "autorange": "reversed", "type": "category"},
        legend={"orientation": "h"},
    )
    return _layout(fig, "Transport plan (row-normalised)", height=620)


def embedding_map(
    points: pd.DataFrame,
    names1: list[str],
    names2: list[str],
    links: dict[str, np.ndarray] | None = None,
    title: str = "Embedding map",
) -> go.Figure:
    """UMAP scatter, both KGs coloured; ``links`` (label -> (k, 2) pairs) drawn as line segments."""
    fig = go.Figure()
    where: dict[tuple[int, int], tuple[float, float]] = {
        (int(k), int(e)): (x, y) for x, y, k, e in points[["x", "y", "kg", "entity"]].itertuples(index=False)
    }
    for label, pairs in (links or {}).items():
        xs: list[float | None] = []
        ys: list[float | None] = []
        for s, t in np.asarray(pairs).reshape(-1, 2):
            a, b = where.get((1, int(s))), where.get((2, int(t)))
            if a is None or b is None:
                continue
            xs += [a[0], b[0], None]
            ys += [a[1], b[1], None]
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs, y=ys, mode="lines", name=f"{label} pairs", hoverinfo="skip",
                    line={"color": DECISION_COLOURS.get(label, "#9467bd"), "width": 1.5},
                )
            )  # fmt: skip
    for kg, names in ((1, names1), (2, names2)):
        part = points[points["kg"] == kg]
        fig.add_trace(
            go.Scattergl(
                x=part["x"], y=part["y"], mode="markers", name=f"KG{kg}",
                marker={"size": 4, "color": KG_COLOURS[kg], "opacity": 0.7},
                text=[inert(names[e]) for e in part["entity"]], hovertemplate="%{text}<extra>KG" + str(kg) + "</extra>",
            )
        )  # fmt: skip
    fig.update_layout(
        xaxis={"showticklabels": False}, yaxis={"showticklabels": False}, legend={"orientation": "h"}
    )
    return _layout(fig, title, height=620)


def history_chart(history: list[dict]) -> go.Figure:
    """Loss terms and validation MRR per epoch."""
    frame = pd.DataFrame(history)
    fig = go.Figure()
    for column in frame.columns:
        if column in ("epoch", "valid_mrr"):
            continue
        fig.add_trace(go.Scatter(x=frame["epoch"], y=frame[column], mode="lines", name=column))
    if "valid_mrr" in frame and frame["valid_mrr"].notna().any():
        mrr = frame.dropna(subset=["valid_mrr"])
        fig.add_trace(
            go.Scatter(x=mrr["epoch"], y=mrr["valid_mrr"], mode="lines+markers", name="valid MRR", yaxis="y2")
        )
    fig.update_layout(
        xaxis_title="epoch", yaxis_title="loss",
        yaxis2={"title": "validation MRR", "overlaying": "y", "side": "right", "range": [0, 1]},
    )  # fmt: skip
    return _layout(fig, "Training", height=320)


def active_learning_curve(rows: pd.DataFrame) -> go.Figure:
    """Test H@1 against labels given, one line per (pair, strategy), error bars = sd over seeds."""
    fig = go.Figure()
    for (pair, strategy), group in rows.groupby(["pair", "strategy"], sort=True):
        group = group.sort_values("labels")
        fig.add_trace(go.Scatter(
            x=group["labels"], y=group["hits@1_mean"], mode="lines+markers", name=inert(f"{pair}: {strategy}"),
            error_y={"type": "data", "array": group["hits@1_sd"].tolist()},
        ))  # fmt: skip
    fig.update_layout(xaxis_title="labels given", yaxis_title="test H@1")
    return _layout(fig, "Simulated curator: test H@1 against labels")
