"""Time to accuracy: test H@1 against training seconds, per split seed, and the time to a target.

Trains exactly as ``python -m mimea_core train PATH --seed-ratio R --split-seed S ...`` would (the
same flags, parsed by the train command's own parser), for a fixed number of epochs, and after each
validation ranks the test links with the model's current weights (standard protocol, KG1→KG2, CSLS
k=3, as the headline). The ranking is only observed: ``fit`` leaves its time out of the training
clock, and nothing of it reaches training or model selection. The time to a target is the training
clock at the first validation whose test H@1 reaches it (an upper bound: it is only looked at every
``eval_every`` epochs).

    python benchmarks/time_to_accuracy.py datasets/fb15k-db15k.toml --seed-ratio 0.2 --epochs 12 \\
        --set patience=12 --device cpu --split-seeds 1,2,3 --target 0.586 --out runs/tta

Each split seed's finished run (the model selected on validation, evaluated as ``train`` does) is
saved under ``--out``/split<S>. Writes ``benchmarks/results/<name>.{json,md,png,html}``; resumable
per split seed.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import sys
from pathlib import Path

import numpy as np

from mimea_core.benchmarking.records import environment_line, environment_stamp, load_average
from mimea_core.commands.train import add_arguments, config_from_args
from mimea_core.fileio import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / "benchmarks" / "results"


def standard_hits1(e12, test: np.ndarray) -> float:
    """Standard-protocol H@1 (KG1→KG2, CSLS k=3) of the current joint embeddings."""
    from mimea_core.evaluation.protocols import rank_queries
    from mimea_core.evaluation.ranking import metrics_from_ranks
    from mimea_core.evaluation.similarity import normalize_rows

    E1, E2 = normalize_rows(e12[0]), normalize_rows(e12[1])
    ranks = rank_queries(E1, E2, test, np.unique(test[:, 1]), csls_k=3)["csls"]
    return metrics_from_ranks(ranks)["hits@1"]


def run_seed(args: argparse.Namespace, split_seed: int) -> dict:
    from mimea_core.data import load_pair, make_split
    from mimea_core.training import train

    config = config_from_args(args)
    pair = load_pair(args.path)
    split = make_split(pair, seed_ratio=args.seed_ratio, seed=split_seed)
    test = np.asarray(split.test, dtype=np.int64).reshape(-1, 2)
    observed: dict[int, float] = {}

    def observe(epoch: int, e12) -> None:
        observed[epoch] = standard_hits1(e12, test)
        print(f"  split seed {split_seed} epoch {epoch}: test H@1 {observed[epoch]:.3f}", flush=True)

    load_before = load_average()
    result = train(pair, config, split, out_dir=Path(args.out) / f"split{split_seed}", on_validation=observe)
    points = [
        {"epoch": row["epoch"], "train_seconds": round(row["elapsed_s"], 1), "valid_mrr": row["valid_mrr"],
         "test_hits@1": observed[row["epoch"]], "pseudo_seeds": row["pseudo_seeds"]}
        for row in result.history if row["epoch"] in observed
    ]  # fmt: skip
    reached = [p["train_seconds"] for p in points if p["test_hits@1"] >= args.target]
    return {
        "split_seed": split_seed,
        "points": points,
        "seconds_to_target": reached[0] if reached else None,
        "final": {"hits@1": result.metrics.standard["hits@1"], "mrr": result.metrics.standard["mrr"],
                  "train_seconds": round(result.metrics.train_seconds, 1), "peak_rss_mb": result.metrics.peak_rss_mb},
        "load_before": load_before,
        "load_after": load_average(),
    }


def write_report(path: Path, payload: dict) -> None:
    target = payload["target"]
    rows = sorted(payload["seeds"], key=lambda r: r["split_seed"])
    lines = [
        f"# Time to accuracy: {payload['dataset']}, {payload['seed_ratio']:g} seeds",
        "",
        f"Command: `{payload['command']}`  ",
        environment_line(payload["env"]),
        "",
        "Test H@1 (standard, KG1→KG2, CSLS) of the current weights at each validation, against the "
        "training clock (the test ranking is observed outside the clock and never used for training "
        "or selection).",
        "",
        "| split seed | " + " | ".join(f"ep {p['epoch']}" for p in rows[0]["points"]) + f" | s to H@1 ≥ {target} | load |",
        "|---|" + "---|" * (len(rows[0]["points"]) + 2),
    ]  # fmt: skip
    for r in rows:
        cells = " | ".join(f"{p['test_hits@1']:.3f} ({p['train_seconds']:.0f} s)" for p in r["points"])
        reached = "not reached" if r["seconds_to_target"] is None else f"{r['seconds_to_target']:.0f}"
        lines.append(f"| {r['split_seed']} | {cells} | {reached} | {r['load_before']} → {r['load_after']} |")
    times = [r["seconds_to_target"] for r in rows if r["seconds_to_target"] is not None]
    if len(times) == len(rows) and len(times) > 1:
        lines += ["", f"Seconds to H@1 ≥ {target}: {statistics.fmean(times):.0f} ± {statistics.stdev(times):.0f} "
                  f"(mean ± sd over split seeds {', '.join(str(r['split_seed']) for r in rows)})."]  # fmt: skip
    atomic_write_text(path.with_suffix(".md"), "\n".join(lines) + "\n")
    try:
        import plotly.graph_objects as go
    except ImportError:
        return
    fig = go.Figure()
    for r in rows:
        fig.add_trace(go.Scatter(x=[p["train_seconds"] for p in r["points"]], y=[p["test_hits@1"] for p in r["points"]],
                                 mode="lines+markers", name=f"split seed {r['split_seed']}"))  # fmt: skip
    fig.add_hline(y=target, line_dash="dot", annotation_text=f"H@1 {target}")
    fig.update_layout(title=f"Time to accuracy, {payload['dataset']} {payload['seed_ratio']:g}",
                      xaxis_title="training seconds", yaxis_title="test H@1 (CSLS)", template="plotly_white")  # fmt: skip
    fig.write_html(path.with_suffix(".html"), include_plotlyjs="cdn")
    try:
        fig.write_image(path.with_suffix(".png"), width=800, height=480)
    except Exception as err:  # kaleido missing or broken: the table and html still stand
        print(f"no png: {err}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)  # every `train` flag, same meaning
    parser.add_argument("--split-seeds", default="1,2,3", help="comma-separated split seeds")
    parser.add_argument("--target", type=float, default=0.586, help="test H@1 to reach")
    parser.add_argument("--name", default="time_to_accuracy", help="result file stem")
    raw = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(raw)
    path = RESULTS / f"{args.name}.json"
    payload = json.loads(path.read_text()) if path.exists() else {"seeds": []}
    payload.update(dataset=Path(args.path).stem, seed_ratio=args.seed_ratio, target=args.target,
                   command=shlex.join(["python", "benchmarks/time_to_accuracy.py", *raw]))  # fmt: skip
    for seed in (int(s) for s in args.split_seeds.split(",") if s.strip()):
        if any(r["split_seed"] == seed for r in payload["seeds"]):
            continue  # resumable: this split seed is done
        payload["seeds"].append(run_seed(args, seed))
        payload["env"] = environment_stamp(REPO_ROOT)
        RESULTS.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(payload, indent=1) + "\n")
        write_report(path, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
