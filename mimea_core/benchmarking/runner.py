"""Run a grid cell by cell, each as a separate ``python -m mimea_core train`` process.

A separate process per cell gives each record an honest peak-memory figure (``ru_maxrss`` is a
per-process high-water mark) and makes every record reproducible from the command it stores.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mimea_core.benchmarking.grid import BenchCell, GridSpec
from mimea_core.benchmarking.records import environment_stamp, load_records, locked, merge_records
from mimea_core.benchmarking.report import write_markdown
from mimea_core.config import MIMEAConfig
from mimea_core.errors import MimeaError
from mimea_core.runs import read_metrics


@dataclass(frozen=True)
class BenchOptions:
    out_dir: Path
    runs_dir: Path
    device: str = "auto"
    epochs: int | None = None  # overrides every cell's own fixed budget (early stopping is always off)
    extra_flags: tuple[str, ...] = ()
    repo: Path = Path(".")


def cell_budget(cell: BenchCell, options: BenchOptions) -> BenchCell:
    """The cell with the budget it trains for (``options.epochs`` overrides the grid's)."""
    return dataclasses.replace(cell, epochs=options.epochs) if options.epochs is not None else cell


def train_command(cell: BenchCell, options: BenchOptions) -> list[str]:
    cell = cell_budget(cell, options)
    cmd = [
        sys.executable, "-m", "mimea_core", "train", cell.dataset_path,
        "--seed-ratio", f"{cell.seed_ratio:g}",
        "--split-seed", str(cell.split_seed),
        "--out", str(options.runs_dir / cell.run_name),
        "--device", options.device,
        "--epochs", str(cell.epochs),
        "--set", f"patience={cell.epochs}",  # never stops early: the same compute for every variant
    ]  # fmt: skip
    return cmd + list(cell.variant.flags) + list(options.extra_flags)


def command_stamp(cmd: list[str]) -> str:
    """What marks a finished run folder as made by ``cmd`` under today's defaults.

    The command alone is not enough: a variant without flags means "the defaults", and those
    change (cross-modal attention was switched off, the graph encoder became rgat). The stamp
    therefore carries a fingerprint of :class:`MIMEAConfig`'s defaults beside the command, and a
    folder made under other defaults is retrained rather than recorded under the wrong name.
    """
    defaults = json.dumps(MIMEAConfig().to_dict(), sort_keys=True)
    fingerprint = hashlib.sha256(defaults.encode("utf-8")).hexdigest()[:16]
    return f"{shlex.join(cmd)}\n# defaults {fingerprint}\n"


def run_cell(
    cell: BenchCell, options: BenchOptions, log: Callable[[str], None], development: bool = False
) -> dict[str, Any]:
    """Train and evaluate one cell (or reuse a finished run directory) and return its record."""
    cell = cell_budget(cell, options)
    cmd = train_command(cell, options)
    run_dir = options.runs_dir / cell.run_name
    stamp = run_dir.parent / f"{cell.run_name}.command"  # what made the finished run folder
    # A finished folder is reused only when the same command made it under the same defaults.
    same = stamp.exists() and stamp.read_text(encoding="utf-8") == command_stamp(cmd)
    metrics = read_metrics(run_dir) if same else None
    wall = None
    if metrics is None:
        run_dir.parent.mkdir(parents=True, exist_ok=True)
        log_path = run_dir.parent / f"{cell.run_name}.log"
        log(f"$ {shlex.join(cmd)}  (log: {log_path})")
        start = time.perf_counter()
        with open(log_path, "w", encoding="utf-8") as fh:
            proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=options.repo)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-5:]
            raise MimeaError(f"cell {cell.key} failed (exit {proc.returncode}): " + " | ".join(tail))
        metrics = read_metrics(run_dir)
        if metrics is None:
            raise MimeaError(f"cell {cell.key}: {run_dir} holds no test metrics after training")
        stamp.write_text(command_stamp(cmd), encoding="utf-8")
    record = metrics.to_dict()
    record.update(
        {
            "grid_key": cell.key,
            "variant": cell.variant.name,
            "variant_description": cell.variant.description,
            "dataset_path": cell.dataset_path,
            "command": shlex.join(cmd),
            "wall_seconds": wall,
            "budget_epochs": cell.epochs,
            "development": development,
            "run_dir": str(run_dir),
        }
    )
    record.setdefault("dataset", cell.dataset)
    record.update(environment_stamp(options.repo))
    return record


def run_grid(
    grid: GridSpec,
    options: BenchOptions,
    log: Callable[[str], None] = print,
    result_name: str | None = None,
) -> Path:
    """Run every cell of ``grid`` not yet recorded; return the JSON result path.

    Results go to ``options.out_dir/<result_name or grid.name>.json`` plus a ``.md`` table, rewritten
    after every cell.
    """
    name = result_name or grid.name
    json_path = options.out_dir / f"{name}.json"
    done = {r.get("grid_key") for r in load_records(json_path)}
    cells = grid.cells()
    todo = [c for c in cells if c.key not in done]
    log(f"grid {name}: {len(cells)} cells, {len(cells) - len(todo)} already done, {len(todo)} to run")
    for i, cell in enumerate(todo, 1):
        with locked(json_path):
            if cell.key in {r.get("grid_key") for r in load_records(json_path)}:
                log(f"[{i}/{len(todo)}] {cell.key}: done meanwhile by another process")
                continue
        log(f"[{i}/{len(todo)}] {cell.key}")
        record = run_cell(cell, options, log, development=grid.development)
        merge_records(json_path, name, [record])
        std = record.get("standard", {})
        log(f"  standard H@1 {std.get('hits@1', float('nan')):.3f}  MRR {std.get('mrr', float('nan')):.3f}")
    write_markdown(json_path.with_suffix(".md"), name, load_records(json_path))
    return json_path
