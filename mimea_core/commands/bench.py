"""``python -m mimea_core bench``: run (or resume) a benchmark grid on real MMKGs."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from mimea_core.benchmarking.grid import (
    BUDGET_EPOCHS,
    GRIDS,
    LOW_SEED_BUDGET_EPOCHS,
    LOW_SEED_RATIO,
    SEED_RATIOS,
)
from mimea_core.benchmarking.records import load_records, merge_records
from mimea_core.benchmarking.report import write_markdown, write_plot
from mimea_core.benchmarking.runner import BenchOptions, run_grid
from mimea_core.errors import ConfigError

NAME = "bench"
HELP = "train and evaluate a grid of datasets x seed ratios x variants; resumable"
DESCRIPTION = (
    "Runs every cell of a benchmark grid not yet in benchmarks/results/<grid>.json, each as a separate "
    "`python -m mimea_core train` process for a fixed number of epochs (early stopping off, the same "
    "for every variant), and rewrites the JSON, a markdown table (mean +- sd over split seeds) and a "
    "plot after every cell. Grids: main (both pairs x 6 seed ratios, full model), ablations "
    "(FB15K-DB15K 20%% and 5%%, FB15K-YAGO15K 20%%; each MIMEA module switched off in turn), "
    "modalities (each modality removed, names added), all on split seeds 1,2,3; dev (the ablations at "
    "FB15K-DB15K 20%% on the development split seed 100, for tuning, never reported); quick (one cell)."
)
QUICK_EPOCHS = 2


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ratios like 0.2,0.5, got {text!r}"
        ) from err
    bad = [v for v in values if not 0.01 <= v <= 0.8]
    if bad:
        raise argparse.ArgumentTypeError(f"seed ratios must be within [0.01, 0.8], got {bad}")
    return values


def _seeds(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in text.split(",") if x.strip())
    except ValueError as err:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers like 1,2,3, got {text!r}"
        ) from err


def _names(text: str) -> tuple[str, ...]:
    return tuple(x.strip() for x in text.split(",") if x.strip())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--grid", choices=sorted(GRIDS), default="main", help="which grid to run")
    parser.add_argument(
        "--datasets",
        type=_names,
        default=None,
        help="comma-separated subset of the grid's datasets (e.g. FB15K-DB15K)",
    )
    parser.add_argument(
        "--ratios",
        type=_ratios,
        default=None,
        help=f"comma-separated subset of seed ratios (grid default: {','.join(map(str, SEED_RATIOS))})",
    )
    parser.add_argument(
        "--variants", type=_names, default=None, help="comma-separated subset of variant names"
    )
    parser.add_argument(
        "--dataset-path",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="use PATH (folder or .toml) for dataset NAME; NAME may be new",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_EPOCHS} epochs per cell, results in <grid>-quick.json",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        help=f"fixed training budget of every cell in epochs (default: {BUDGET_EPOCHS}, "
        f"{LOW_SEED_BUDGET_EPOCHS} at seed ratios <= {LOW_SEED_RATIO:g}); wall time is recorded, never used to stop",
    )
    parser.add_argument(
        "--split-seeds",
        type=_seeds,
        default=None,
        help="comma-separated split seeds (default: the grid's; 1,2,3 for reported grids, 100 for dev)",
    )
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="training device")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"), help="result folder")
    parser.add_argument("--runs-dir", type=Path, default=Path("runs/bench"), help="where cell run folders go")
    parser.add_argument(
        "--result-name",
        default=None,
        help="result file stem (default: the grid name, '-quick' added with --quick)",
    )
    parser.add_argument(
        "--report-only", action="store_true", help="only rewrite the table and plot from the JSON"
    )
    parser.add_argument(
        "--merge",
        nargs="+",
        type=Path,
        default=[],
        metavar="JSON",
        help="add the records of other result files (e.g. run on another machine) to this grid's file",
    )
    parser.add_argument("--train-flag", action="append", default=[], metavar="FLAG",
                        help="extra flag passed to every `train` (repeat; e.g. --train-flag=--epochs=5)")  # fmt: skip


def run(args: argparse.Namespace) -> int:
    grid = GRIDS[args.grid]
    paths = dict(grid.dataset_paths)
    for item in args.dataset_path:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ConfigError(f"--dataset-path expects NAME=PATH, got {item!r}")
        paths[name] = path
    grid = dataclasses.replace(grid, dataset_paths=paths)
    grid = grid.restricted(args.datasets, args.ratios, args.variants, args.split_seeds)
    if args.epochs is not None and args.epochs < 1:
        raise ConfigError(f"--epochs must be >= 1, got {args.epochs}")
    epochs = args.epochs or (QUICK_EPOCHS if args.quick else grid.epochs)  # None: each cell's own budget
    result_name = args.result_name or (f"{grid.name}-quick" if args.quick else grid.name)
    json_path = args.out / f"{result_name}.json"
    if not args.report_only:
        options = BenchOptions(
            out_dir=args.out,
            runs_dir=args.runs_dir / result_name,
            device=args.device,
            epochs=epochs,
            extra_flags=tuple(args.train_flag),
            repo=Path.cwd(),
        )
        json_path = run_grid(grid, options, result_name=result_name)
    for other in args.merge:
        added = merge_records(json_path, result_name, load_records(other))
        print(f"merged {added} new record(s) from {other}")
    records = load_records(json_path)
    write_markdown(json_path.with_suffix(".md"), result_name, records)
    if len({r.get("seed_ratio") for r in records}) > 1:  # a curve needs at least two seed ratios
        for path in write_plot(json_path.with_name(f"{result_name}_hits1"), records):
            print(f"wrote {path}")
    if len({r.get("variant") for r in records}) > 1:
        for path in write_plot(json_path.with_name(f"{result_name}_variants"), records, kind="ablation"):
            print(f"wrote {path}")
    print(f"results: {json_path} ({len(records)} records), table: {json_path.with_suffix('.md')}")
    return 0
