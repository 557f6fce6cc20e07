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
    return (
        record.get("dataset", ""), record.get("seed_ratio", 0), record.get("variant", ""),
        record.get("split_seed", 0),
    )  # fmt: skip


def _get(record: dict[str, Any], path: str) -> float | None:
    """``"standard.hits@1"`` -> ``record["standard"]["hits@1"]`` (None when missing or NaN)."""
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if not isinstance(value, (int, float)) or value != value:
        return None
    return float(value)


def mean_sd(values: list[float]) -> tuple[float, float | None] | None:
    """Mean and sample standard deviation (None for one value); None for no values."""
    if not values:
        return None
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, None
    return mean, (sum((v - mean) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def _pm(stats: tuple[float, float] | None, signed: bool = False) -> str:
    if stats is None:
        return "–"
    mean, sd = stats
    text = f"{mean:+.3f}" if signed else f"{mean:.3f}"
    return text if sd is None else f"{text} ± {sd:.3f}"  # one seed: no spread to show


SUMMARY_METRICS = (
    ("H@1", "standard.hits@1"),
    ("H@10", "standard.hits@10"),
    ("MRR", "standard.mrr"),
    ("open H@1 KG1→KG2", "open.hits@1"),
    ("open H@1 KG2→KG1", "open_r2l.hits@1"),
    ("1-to-1 H@1", "one_to_one.hits@1"),
)


def summarise(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (dataset, ratio, variant): metric mean ± sd over split seeds, and each variant's
    paired difference to ``full`` on the same split seeds (mean ± sd of the per-seed deltas)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in sorted(records, key=_sort_key):
        groups.setdefault((r.get("dataset"), r.get("seed_ratio"), r.get("variant", "full")), []).append(r)
    rows = []
    for (dataset, ratio, variant), group in groups.items():
        full = {r.get("split_seed"): r for r in groups.get((dataset, ratio, "full"), [])}
        deltas = [
            _get(r, "standard.hits@1") - _get(full[r.get("split_seed")], "standard.hits@1")
            for r in group
            if r.get("split_seed") in full
            and _get(r, "standard.hits@1") is not None
            and _get(full[r.get("split_seed")], "standard.hits@1") is not None
        ]
        row: dict[str, Any] = {
            "dataset": dataset, "seed_ratio": ratio, "variant": variant,
            "split_seeds": [r.get("split_seed") for r in group],
            "delta_hits@1": mean_sd(deltas) if variant != "full" else None,
            "distractors": (group[0].get("open_candidates") or {}),
        }  # fmt: skip
        for label, path in SUMMARY_METRICS:
            row[label] = mean_sd([v for r in group if (v := _get(r, path)) is not None])
        for key in ("epochs", "optimizer_steps", "train_seconds", "wall_seconds", "peak_rss_mb"):
            row[key] = mean_sd([v for r in group if (v := _get(r, key)) is not None])
        rows.append(row)
    return rows


def summary_table(records: list[dict[str, Any]]) -> str:
    """Markdown: mean ± sd over split seeds per cell and variant, Δ H@1 vs full (paired by seed)."""
    labels = [label for label, _ in SUMMARY_METRICS]
    header = (
        "| dataset | seeds | variant | split seeds | " + " | ".join(labels)
        + " | Δ H@1 vs full | epochs | train s | vs same-files MEAformer H@1 |\n"
        + "|---" * (len(labels) + 8) + "|\n"
    )  # fmt: skip
    lines = []
    for row in summarise(records):
        baseline = SAME_FILES.get((row["dataset"], row["seed_ratio"]))
        h1 = row["H@1"]
        versus = (
            f"{h1[0] - baseline['hits@1']:+.3f} (vs {baseline['hits@1']:.3f})" if baseline and h1 else "–"
        )
        train_s = row["train_seconds"]
        cells = [
            str(row["dataset"]), f"{100 * (row['seed_ratio'] or 0):g}%", str(row["variant"]),
            ",".join(str(s) for s in row["split_seeds"]),
            *(_pm(row[label]) for label in labels),
            _pm(row["delta_hits@1"], signed=True) if row["variant"] != "full" else "(reference)",
            _fmt(row["epochs"][0], 0) if row["epochs"] else "–",
            f"{train_s[0]:.0f}" if train_s else "–",
            versus,
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return header + "\n".join(lines) + "\n"


def distractor_notes(records: list[dict[str, Any]]) -> list[str]:
    """One line per dataset saying which direction of the open protocol has distractors."""
    seen: dict[str, dict] = {}
    for r in sorted(records, key=_sort_key):
        if r.get("open_candidates") and r.get("dataset") not in seen:
            seen[r["dataset"]] = r["open_candidates"]
    notes = []
    for dataset, counts in seen.items():
        parts = []
        for direction, label in (("l2r", "KG1→KG2"), ("r2l", "KG2→KG1")):
            c = counts.get(direction, {})
            parts.append(
                f"{label} {c.get('distractors', '?')} distractors among {c.get('candidates', '?')} candidates"
            )
        notes.append(f"- {dataset} (first split listed): " + "; ".join(parts))
    return notes


def markdown_table(records: list[dict[str, Any]]) -> str:
    """Markdown: one row per run (split seed)."""
    header = (
        "| dataset | seeds | variant | split seed | H@1 | H@10 | MRR | open H@1 | open H@1 KG2→KG1 | 1-to-1 H@1 "
        "| epochs | steps | train s | peak MB | device |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for r in sorted(records, key=_sort_key):
        train_s = r.get("train_seconds")
        rows.append(
            "| "
            + " | ".join(
                [
                    str(r.get("dataset")),
                    f"{100 * r.get('seed_ratio', 0):g}%",
                    str(r.get("variant", "full")),
                    str(r.get("split_seed", "–")),
                    _fmt(_get(r, "standard.hits@1")),
                    _fmt(_get(r, "standard.hits@10")),
                    _fmt(_get(r, "standard.mrr")),
                    _fmt(_get(r, "open.hits@1")),
                    _fmt(_get(r, "open_r2l.hits@1")),
                    _fmt(_get(r, "one_to_one.hits@1")),
                    _fmt(r.get("epochs")),
                    _fmt(r.get("optimizer_steps")),
                    _fmt(round(train_s) if isinstance(train_s, (int, float)) else None),
                    _fmt(round(r["peak_rss_mb"]) if isinstance(r.get("peak_rss_mb"), (int, float)) else None),
                    str(r.get("device", "–")),
                ]
            )
            + " |"
        )
    return header + "\n".join(rows) + "\n"


PROTOCOL = (
    "Protocol: every variant of a cell trains for the same fixed number of epochs (early stopping off; the model "
    "is selected on validation MRR, 10% of the seeds, never on test); wall-clock time is recorded, "
    "never used to stop. Reported figures are mean ± sd over split seeds 1, 2, 3; Δ H@1 vs full is "
    "the per-seed paired difference. Tuning used the development split seed 100 only."
)


def write_markdown(path: Path, grid_name: str, records: list[dict[str, Any]]) -> None:
    lines = [f"# Benchmark grid `{grid_name}`", ""]
    if any(r.get("development") for r in records):
        lines += [
            "**Development split (seed 100): for choosing settings only, never to be reported.**", "",
        ]  # fmt: skip
    budgets: dict[int, set[str]] = {}
    for r in records:
        if r.get("budget_epochs") and r.get("seed_ratio") is not None:
            budgets.setdefault(r["budget_epochs"], set()).add(f"{r['seed_ratio']:.0%}")
    budget_text = "; ".join(
        f"{epochs} epochs at {', '.join(sorted(ratios, key=lambda x: float(x[:-1])))} seeds"
        for epochs, ratios in sorted(budgets.items())
    )
    lines += [
        "Headline metrics: KG1→KG2 with CSLS (k=3). *Standard*: rank among test targets (as papers do);",
        "*open*: rank among all entities of the other KG not used as seeds, both directions (the",
        "distractor counts below say in which direction the open protocol differs from the standard one).",
        "Data: `../shared/data/mmkb_offline` (FB15K graph with 64% of its triples, YAGO15K with 30%),",
        "no images, no names unless the variant says so.",
        "",
        PROTOCOL + (f" Budget: {budget_text} (grid.py `budget_epochs`)." if budgets else ""),
        "",
        "## Summary (mean ± sd over split seeds)",
        "",
        summary_table(records),
    ]
    notes = distractor_notes(records)
    if notes:
        lines += [
            "Open-protocol distractors (candidates that are no test query's gold target):",
            "",
            *notes,
            "",
        ]
    lines += ["## Every run", "", markdown_table(records)]
    if records:
        lines += ["## Provenance", ""]
        for r in sorted(records, key=_sort_key):
            versions = ", ".join(f"{k} {v}" for k, v in (r.get("versions") or {}).items() if v)
            wall = r.get("wall_seconds")
            wall_text = f", wall {wall:.0f} s" if isinstance(wall, (int, float)) else ""
            load = (r.get("machine") or {}).get("load_average")
            if load:
                wall_text += f", load average {'/'.join(f'{x:.1f}' for x in load)} (1/5/15 min, at the end)"
            lines.append(
                f"- {r.get('grid_key')}: `{r.get('command')}` — {r.get('date')}, commit {r.get('commit')}, "
                f"{versions}, {r.get('machine', {}).get('cpu_count')} CPUs{wall_text}"
            )
    atomic_write_text(path, "\n".join(lines) + "\n")


def hits_plot(records: list[dict[str, Any]], variant: str = "full"):
    """Plotly figure: H@1 (standard) against seed ratio (mean ± sd over split seeds as error bars),
    ours vs the published and same-files baselines."""
    import plotly.graph_objects as go

    fig = go.Figure()
    rows = [r for r in summarise(records) if r["variant"] == variant and r["H@1"]]
    for dataset in sorted({r["dataset"] for r in rows}):
        ours = sorted((r["seed_ratio"], *r["H@1"]) for r in rows if r["dataset"] == dataset)
        fig.add_trace(
            go.Scatter(
                x=[x for x, _, _ in ours],
                y=[y for _, y, _ in ours],
                error_y={"type": "data", "array": [sd or 0.0 for _, _, sd in ours], "visible": True},
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
        title="H@1 (KG1→KG2, CSLS, standard protocol) against seed ratio, mean ± sd over split seeds",
        xaxis_title="seed ratio",
        yaxis_title="H@1",
        xaxis={"type": "log", "tickvals": [0.01, 0.05, 0.1, 0.2, 0.5, 0.8]},
        yaxis={"range": [0, 1]},
        template="plotly_white",
    )
    return fig


def ablation_plot(records: list[dict[str, Any]]):
    """Plotly bar chart: H@1 per variant and cell, mean with ± sd error bars over split seeds."""
    import plotly.graph_objects as go

    rows = [r for r in summarise(records) if r["H@1"]]
    fig = go.Figure()
    for cell in sorted({(r["dataset"], r["seed_ratio"]) for r in rows}):
        group = [r for r in rows if (r["dataset"], r["seed_ratio"]) == cell]
        fig.add_trace(
            go.Bar(
                x=[r["variant"] for r in group],
                y=[r["H@1"][0] for r in group],
                error_y={"type": "data", "array": [r["H@1"][1] or 0.0 for r in group], "visible": True},
                name=f"{cell[0]} {100 * cell[1]:g}%",
            )
        )
    fig.update_layout(
        title="H@1 (KG1→KG2, CSLS) per variant, mean ± sd over split seeds",
        barmode="group", yaxis={"range": [0, 1], "title": "H@1"}, template="plotly_white",
    )  # fmt: skip
    return fig


def write_plot(path_stem: Path, records: list[dict[str, Any]], kind: str = "hits") -> list[Path]:
    """Write ``<stem>.html`` and, when kaleido can render, ``<stem>.png``; return the files written.

    ``kind``: ``"hits"`` (H@1 against seed ratio) or ``"ablation"`` (bars per variant).
    """
    fig = hits_plot(records) if kind == "hits" else ablation_plot(records)
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
