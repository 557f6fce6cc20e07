"""Recall@10 of faiss candidates against exact ones on FB15K-DB15K (trained embeddings).

Trains MIMEA on FB15K-DB15K 20% (split seed 1, ``--time-budget`` seconds of training) or loads a
finished run (``--run``), then runs :func:`mimea_core.candidates.suggest` (CSLS k=3, top-10, every
non-seed KG1 entity among the non-seed KG2 entities) exactly and with ``retrieval="faiss"`` for
several ``nprobe`` and each ``--methods`` (``faiss``: flat float32 cells, ``faiss-sq8``: 8-bit
codes, re-scored); recall@10 = mean over sources of |faiss top-10 ∩ exact top-10| / 10, plus the
top-1 agreement and seconds of each. ``--save-run DIR`` keeps the trained run, for ``--run DIR`` later.

    nice -n 10 python benchmarks/faiss_recall.py --time-budget 120
    python benchmarks/faiss_recall.py --time-budget 600 --nprobe 8,16,32,64,128 --methods faiss,faiss-sq8

Writes ``benchmarks/results/faiss_recall.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, default=None, help="a finished run of FB15K-DB15K to load instead")
    p.add_argument("--time-budget", type=float, default=120.0)
    p.add_argument("--nprobe", default="8,16,32,64")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--methods", default="faiss", help="comma-separated: faiss, faiss-sq8")
    p.add_argument("--save-run", type=Path, default=None, help="write the trained run here (reuse with --run)")
    args = p.parse_args()

    from mimea_core.benchmarking.records import load_average
    from mimea_core.candidates import suggest
    from mimea_core.config import MIMEAConfig
    from mimea_core.data import load_pair, make_split
    from mimea_core.inference import embed
    from mimea_core.retrieval import recall_at_k

    pair = load_pair(str(REPO / "datasets" / "fb15k-db15k.toml"))
    if args.run:
        from mimea_core.runs import load_run

        run = load_run(args.run, device="cpu")
        split, emb = run.split, embed(run.model, pair)
    else:
        split = make_split(pair, seed_ratio=0.2, seed=1)
        from mimea_core.training import train

        result = train(pair, MIMEAConfig(seed=1, time_budget=args.time_budget), split=split, out_dir=args.save_run)
        emb = result.embeddings
    torch.set_num_threads(args.threads)
    seeds = np.concatenate([split.train, split.valid])
    kwargs = {"top_k": 10, "exclude_kg1": seeds[:, 0], "exclude_kg2": seeds[:, 1]}
    t0 = time.perf_counter()
    exact = suggest(emb, **kwargs)
    exact_s = time.perf_counter() - t0
    ref = exact["target"].to_numpy().reshape(-1, 10)
    rows = []
    for method in args.methods.split(","):
        for nprobe in (int(x) for x in args.nprobe.split(",")):
            t0 = time.perf_counter()
            approx = suggest(emb, retrieval=method, nprobe=nprobe, **kwargs)
            secs = time.perf_counter() - t0
            got = approx["target"].to_numpy().reshape(-1, 10)
            recall = recall_at_k(ref, got)
            rows.append({"method": method, "nprobe": nprobe, "recall@10": round(recall, 4),
                         "top1_agreement": round(float((ref[:, 0] == got[:, 0]).mean()), 4), "seconds": round(secs, 2)})  # fmt: skip
            print(rows[-1], flush=True)
    payload = {
        "dataset": "FB15K-DB15K", "seed_ratio": 0.2, "split_seed": int(split.seed), "sources": int(len(ref)),
        "exact_seconds": round(exact_s, 2), "threads": args.threads, "results": rows,
        "command": "python benchmarks/faiss_recall.py " + shlex.join(sys.argv[1:]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "faiss_recall.json").write_text(json.dumps(payload, indent=1) + "\n")
    lines = [
        "# faiss candidates vs exact (FB15K-DB15K 20%, CSLS k=3, top-10)",
        "",
        f"`{payload['command']}` — {payload['sources']} non-seed sources, split seed {payload['split_seed']}, "
        f"{args.threads} threads on the shared CPU (load {load_average()}); exact: {payload['exact_seconds']} s. "
        f"{payload['date']}.",
        "",
        "| method | nprobe | recall@10 | top-1 agreement | seconds |",
        "|---|---|---|---|---|",
    ] + [
        f"| {r['method']} | {r['nprobe']} | {r['recall@10']:.4f} | {r['top1_agreement']:.4f} | {r['seconds']:.1f} |"
        for r in rows
    ]
    (RESULTS / "faiss_recall.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
