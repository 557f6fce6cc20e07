"""FB15K-DB15K 20% on CUDA for split seeds 1, 2, 3 (as many as a deadline allows): benchmark records.

Each seed is one ``python -m mimea_core train`` process (:func:`mimea_core.benchmarking.runner.run_cell`),
so every record carries its own peak RSS, peak GPU memory (``torch.cuda.max_memory_allocated``),
the GPU's name, training seconds and the command. A seed starts only when at least
``--per-seed-s`` seconds remain before ``--deadline-s``; records are merged into
``OUT/gpu_fb15k-db15k.json`` (+ ``.md``) after every seed, so a run cut short keeps what finished.
The per-epoch ``(elapsed_s, valid_mrr)`` curve is stored too, to read the time to a given accuracy.

    python benchmarks/gpu_bench.py --out "$OUT" --deadline-s 360 --time-budget 90
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from mimea_core.benchmarking.grid import GridSpec
from mimea_core.benchmarking.records import merge_records
from mimea_core.benchmarking.runner import BenchOptions, run_cell

NAME = "gpu_fb15k-db15k"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--runs-dir", type=Path, default=Path("/tmp/mimea-gpu-runs"))
    p.add_argument("--seeds", default="1,2,3")
    p.add_argument("--device", default="cuda")
    p.add_argument("--time-budget", type=float, default=90.0, help="training seconds per seed")
    p.add_argument("--per-seed-s", type=float, default=None,
                   help="seconds a seed needs in all (default: time budget + 60 for loading and evaluation)")  # fmt: skip
    p.add_argument("--deadline-s", type=float, default=360.0, help="start no seed after this many seconds")
    args = p.parse_args()
    start = time.monotonic()
    need = args.per_seed_s if args.per_seed_s is not None else args.time_budget + 60.0
    seeds = tuple(int(s) for s in args.seeds.split(","))
    grid = GridSpec(NAME, ("FB15K-DB15K",), (0.2,), split_seeds=seeds)
    options = BenchOptions(
        out_dir=args.out, runs_dir=args.runs_dir, device=args.device, time_budget_s=args.time_budget,
        repo=Path.cwd(),
    )  # fmt: skip
    json_path = args.out / f"{NAME}.json"
    for cell in grid.cells():
        left = args.deadline_s - (time.monotonic() - start)
        if left < need:
            print(f"seed {cell.split_seed}: skipped, {left:.0f} s left < {need:.0f} s needed")
            continue
        print(f"seed {cell.split_seed}: training ({left:.0f} s left)", flush=True)
        record = run_cell(cell, options, log=print)
        history = options.runs_dir / cell.run_name / "history.jsonl"
        if history.exists():
            rows = [json.loads(line) for line in history.read_text().splitlines() if line.strip()]
            record["curve"] = [[r["epoch"], round(r["elapsed_s"], 2), r["valid_mrr"]] for r in rows]
        merge_records(json_path, NAME, [record])
        std = record.get("standard", {})
        print(
            f"  H@1 {std.get('hits@1', float('nan')):.4f}  MRR {std.get('mrr', float('nan')):.4f}  "
            f"{record.get('train_seconds')} s  peak GPU {record.get('peak_gpu_mb')} MB  {record.get('gpu')}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
