"""Turn benchmark records into a markdown table and a plot of H@1 against the seed ratio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mimea_core.benchmarking.baselines import PUBLISHED_MEAFORMER, SAME_FILES
from mimea_core.fileio import atomic_write_text


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _sort_key(record: dict[str, Any]) -> tuple:
    return (record.get("dataset", ""), record.get("seed_ratio", 0), record.get("variant", ""))


def markdown_table(records: list[dict[str, Any]]) -> str:
    header = (
        "| dataset | seeds | variant | H@1 | H@10 | MRR | open H@1 | open H@10 | open MRR | 1-to-1 H@1 "
        "| epochs | train s | peak MB | device | vs same-files MEAformer H@1 |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for r in sorted(records, key=_sort_key):
        std, opn = r.get("standard", {}), r.get("open", {})
        baseline = SAME_FILES.get((r.get("dataset"), r.get("seed_ratio")))
        delta = "–"
        if baseline and "hits@1" in std:
            delta = f"{std['hits@1'] - baseline['hits@1']:+.3f} (vs {baseline['hits@1']:.3f})"
        train_s = r.get("train_seconds")
        rows.append(
            "| "
            + " | ".join(
                [
                    str(r.get("dataset")),
                    f"{100 * r.get('seed_ratio', 0):g}%",
                    str(r.get("variant", "full")),
                    _fmt(std.get("hits@1")),
                    _fmt(std.get("hits@10")),
                    _fmt(std.get("mrr")),
                    _fmt(opn.get("hits@1")),
                    _fmt(opn.get("hits@10")),
                    _fmt(opn.get("mrr")),
                    _fmt(r.get("one_to_one", {}).get("hits@1")),
                    _fmt(r.get("epochs")),
                    _fmt(round(train_s) if isinstance(train_s, (int, float)) else None),
                    _fmt(round(r["peak_rss_mb"]) if isinstance(r.get("peak_rss_mb"), (int, float)) else None),
                    str(r.get("device", "–")),
                    delta,
                ]
            )
            + " |"
        )
    return header + "\n".join(rows) + "\n"


def write_markdown(path: Path, grid_name: str, records: list[dict[str, Any]]) -> None:
    lines = [
        f"# Benchmark grid `{grid_name}`",
        "",
        "Headline metrics: KG1→KG2 with CSLS (k=3). *Standard*: rank among test targets (as papers do);",
        "*open*: rank among all KG2 entities not used as seeds. The model is selected on validation",
        "(10% of the seeds), never on test. Data: `../shared/data/mmkb_offline` (FB15K graph with 64% of",
        "its triples, YAGO15K with 30%), no images, no names unless the variant says so.",
        "",
        markdown_table(records),
    ]
    if records:
        lines += ["## Provenance", ""]
        for r in sorted(records, key=_sort_key):
            versions = ", ".join(f"{k} {v}" for k, v in (r.get("versions") or {}).items() if v)
            lines.append(
                f"- {r.get('grid_key')}: `{r.get('command')}` — {r.get('date')}, commit {r.get('commit')}, "
                f"{versions}, {r.get('machine', {}).get('cpu_count')} CPUs"
            )
    atomic_write_text(path, "\n".join(lines) + "\n")


def hits_plot(records: list[dict[str, Any]], variant: str = "full"):
    """Plotly figure: H@1 (standard) against seed ratio, ours vs the published and same-files baselines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    datasets = sorted({r.get("dataset") for r in records if r.get("variant", "full") == variant})
    for dataset in datasets:
        ours = sorted(
            (r["seed_ratio"], r["standard"]["hits@1"])
            for r in records
            if r.get("dataset") == dataset and r.get("variant", "full") == variant
        )
        fig.add_trace(
            go.Scatter(
                x=[x for x, _ in ours],
                y=[y for _, y in ours],
                mode="lines+markers",
                name=f"MIMEA (ours) {dataset}",
            )
        )
        pub = sorted((k[1], v["hits@1"]) for k, v in PUBLISHED_MEAFORMER.items() if k[0] == dataset)
        fig.add_trace(
            go.Scatter(
                x=[x for x, _ in pub], y=[y for _, y in pub], mode="lines+markers", line={"dash": "dash"},
                name=f"MEAformer published (full graphs + images) {dataset}",
            )
        )  # fmt: skip
        same = sorted((k[1], v["hits@1"]) for k, v in SAME_FILES.items() if k[0] == dataset)
        fig.add_trace(
            go.Scatter(
                x=[x for x, _ in same], y=[y for _, y in same], mode="markers", marker={"symbol": "x", "size": 12},
                name=f"MEAformer on our files, this CPU {dataset}",
            )
        )  # fmt: skip
    fig.update_layout(
        title="H@1 (KG1→KG2, CSLS, standard protocol) against seed ratio",
        xaxis_title="seed ratio",
        yaxis_title="H@1",
        xaxis={"type": "log", "tickvals": [0.01, 0.05, 0.1, 0.2, 0.5, 0.8]},
        yaxis={"range": [0, 1]},
        template="plotly_white",
    )
    return fig


def write_plot(path_stem: Path, records: list[dict[str, Any]]) -> list[Path]:
    """Write ``<stem>.html`` and, when kaleido can render, ``<stem>.png``; return the files written."""
    fig = hits_plot(records)
    written = []
    html = path_stem.with_suffix(".html")
    fig.write_html(html, include_plotlyjs="cdn")
    written.append(html)
    try:
        png = path_stem.with_suffix(".png")
        fig.write_image(png, width=900, height=560)
        written.append(png)
    except Exception:  # kaleido missing or no browser for it: HTML only, as documented
        pass
    return written
