"""How long the app's active-learning retrain takes after a batch of labels (issue 11: < 60 s).

    nice -n 10 .venv/bin/python benchmarks/relearn_time.py [--labels 50] [--repeats 2]

The app's default model for the sample pair (names included, :func:`app.state.quick_config`), its
default split, ``--labels`` gold links outside the split's seeds as the accepted pairs, and the
warm-start retrain of :func:`mimea_core.curation.active.relearn_config` from a trained state.
Reports wall seconds and the process's CPU seconds (one torch thread: on a quiet machine the wall
time is about the CPU time; on a loaded one the wall time is larger). Writes
``benchmarks/results/relearn_time.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
SAMPLE = REPO_ROOT / "sample_data" / "fb15k-db15k-small"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    from mimea_core.benchmarking.records import environment_stamp
    from mimea_core.config import MIMEAConfig
    from mimea_core.curation.active import relearn_config
    from mimea_core.curation.defaults import curation_config
    from mimea_core.data import load_pair, make_split
    from mimea_core.training.loop import fit

    pair = load_pair(str(SAMPLE))
    config = curation_config(pair, MIMEAConfig(time_budget=120.0))  # the app's QUICK_CONFIG + names
    split = make_split(pair, seed_ratio=0.2, seed=config.seed)
    start = fit(pair, config.replace(epochs=1), split)  # a state to start from (and warm caches)
    state = start.model.state_dict()
    accepted = split.test[: args.labels]
    runs = []
    for _ in range(args.repeats):
        load = os.getloadavg()[0]
        t_wall, t_cpu = time.perf_counter(), time.process_time()
        fitted = fit(pair, relearn_config(config), split, extra_seeds=accepted, init_state=state)
        runs.append({"wall_s": round(time.perf_counter() - t_wall, 1), "cpu_s": round(time.process_time() - t_cpu, 1),
                     "epochs": fitted.epochs, "load_before": round(load, 2)})  # fmt: skip
        print(runs[-1], flush=True)
    out = {
        "command": shlex.join(["python", "benchmarks/relearn_time.py", *(argv if argv is not None else sys.argv[1:])]),
        "env": environment_stamp(REPO_ROOT),
        "modalities": list(start.modalities),
        "labels": args.labels,
        "runs": runs,
    }
    path = REPO_ROOT / "benchmarks" / "results" / "relearn_time.json"
    path.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
