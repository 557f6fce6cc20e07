"""Scale benchmark: seconds and peak memory against the number of entities, on synthetic pairs.

For each size ``N`` (linked entities per KG; each KG also has 10% unlinked distractors) a child
process (a fresh ``ru_maxrss`` per size) builds :func:`mimea_core.data.synthetic.synthetic_pair`
(seed 0, DB15K-like shape), then times

- ``generate``: the synthetic pair; ``inputs``: vocabulary + model inputs (what loading costs);
- ``epoch``: the first training epoch; ``train``: a fixed number of epochs (default 3, validation
  at the last one only, no early stop, no pseudo-seeds before epoch 10);
- ``evaluate``: ``embed`` + all test metrics (standard/open, both directions, one-to-one); with
  ``--no-evaluate`` (a million entities: the open protocol ranks against the full pools, N²) the
  test metrics are skipped, ``embed`` is timed alone and H@1 is the standard protocol's;
- ``candidates``: ``suggest`` top-10 for every non-seed KG1 entity among the non-seed KG2 ones;

with each phase's own resident peak (the high-water mark restarted at the phase's start,
:func:`~mimea_core.training.runtime.reset_peak_rss`: what the candidates need, embeddings
included; the largest of them is the process's peak), and H@1 (standard) as a sanity figure, not a target. The machine's load (``/proc/loadavg``) is stored before and after each size: this CPU is shared. The
cost exponent ``b`` of ``seconds ≈ a·N^b`` is fitted by least squares in log-log space over the
sizes present.

    nice -n 10 python benchmarks/scale.py --sizes 15000,100000     # adds/replaces those sizes
    python benchmarks/scale.py --sizes 1000000 --epochs 1 --set dim=64 --no-evaluate --name scale-1m
    python benchmarks/scale.py --sizes 1000000 --device cuda --set dim=64 --graph-fanout 10 \
        --no-evaluate --name scale-gpu-1m                          # the GPU column: exact candidates on it
    python benchmarks/scale.py --report-only                       # rewrite .md/.png from the JSON
    python benchmarks/scale.py --stats                             # synthetic vs FB15K/DB15K shape

Writes ``benchmarks/results/scale.json``, ``scale.md`` and ``scale.png`` (``--name`` changes the stem).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from mimea_core.benchmarking.records import environment_line, environment_stamp
from mimea_core.retrieval import METHODS

RESULTS = Path(__file__).resolve().parent / "results"
PHASES = ("generate", "inputs", "epoch", "train", "embed", "evaluate", "candidates")


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def measure(
    n: int,
    epochs: int,
    seed: int,
    device: str,
    test_sample: int,
    retrieval: str,
    graph_fanout: int = 0,
    overrides: dict[str, Any] | None = None,
    evaluate: bool = True,
) -> dict[str, Any]:
    """One size, in this process (called in a child by :func:`main`); ``overrides``: further
    :class:`~mimea_core.config.MIMEAConfig` fields (``--set dim=64``). ``evaluate=False`` skips the
    test metrics (their open protocol ranks against the full pools, N² at a million entities): the
    phase ``embed`` is then timed alone and H@1 is the standard protocol's on the test links."""
    import torch

    from mimea_core.candidates import suggest
    from mimea_core.config import MIMEAConfig, resolve_device
    from mimea_core.data import make_split
    from mimea_core.data.synthetic import SyntheticSpec, degree_stats, synthetic_pair
    from mimea_core.data.types import Split
    from mimea_core.model import available_modalities, build_vocab, prepare_inputs
    from mimea_core.training import train
    from mimea_core.training.runtime import peak_rss_mb, reset_peak_rss

    seconds: dict[str, float] = {}
    rss: dict[str, float] = {}  # resident high-water mark while the phase ran (incl. what it inherited)
    held: dict[str, float] = {}  # resident memory at the phase's start (what it inherited)

    def start(phase: str) -> float:
        _return_freed_memory()
        reset_peak_rss()
        held[phase] = round(peak_rss_mb(), 1)  # the mark restarts at the current RSS
        return time.perf_counter()

    def mark(phase: str, t0: float) -> None:
        seconds[phase] = round(time.perf_counter() - t0, 2)
        rss[phase] = round(peak_rss_mb(), 1)
        print(f"N={n} {phase}: {seconds[phase]} s, peak RSS {rss[phase]} MB", flush=True)

    t0 = start("generate")
    pair = synthetic_pair(SyntheticSpec(n, seed=0))
    mark("generate", t0)
    base = MIMEAConfig(epochs=epochs, eval_every=epochs, patience=10**6, seed=seed, device=device,
                       graph_fanout=graph_fanout)  # fmt: skip
    config = MIMEAConfig.from_dict({**base.to_dict(), **(overrides or {})})
    t0 = start("inputs")
    vocab = build_vocab(pair, config.relation_topk, config.attribute_topk)
    inputs = prepare_inputs(pair, vocab, available_modalities(config, vocab), "cpu", config.graph_encoder)
    mark("inputs", t0)
    del inputs
    split = make_split(pair, seed_ratio=0.2, seed=seed)
    if 0 < test_sample < len(split.test):  # evaluate a sample of the test links (pools stay full size)
        rows = np.random.default_rng(seed).choice(len(split.test), test_sample, replace=False)
        split = Split(split.train, split.valid, split.test[np.sort(rows)], split.seed_ratio, split.seed)
    if evaluate:
        t_run = start("train")
        result = train(pair, config, split=split)
        run_s = time.perf_counter() - t_run
        m = result.metrics.to_dict()
        seconds["epoch"] = round(result.history[0]["epoch_seconds"], 2)
        seconds["train"] = m["train_seconds"]
        seconds["evaluate"] = round(run_s - m["train_seconds"], 2)  # embed + test metrics (+ set-up)
        rss["evaluate"] = round(peak_rss_mb(), 1)  # training and test metrics together
        embeddings, h1, h1_one_to_one = result.embeddings, m["standard"]["hits@1"], m["one_to_one"]["hits@1"]
    else:
        embeddings, h1 = _train_and_embed(pair, config, split, seconds, start, mark)
        h1_one_to_one = float("nan")
    seeds = np.concatenate([split.train, split.valid])
    facts = {
        "entities_per_kg": [pair.kg1.num_entities, pair.kg2.num_entities],
        "triples": [int(len(pair.kg1.triples)), int(len(pair.kg2.triples))],
        "shape": {"kg1": degree_stats(pair.kg1), "kg2": degree_stats(pair.kg2)},
    }
    del pair  # candidates are made from the embeddings alone (as `suggest` from a saved run is)
    if evaluate:
        del result
    t0 = start("candidates")
    with torch.no_grad():
        torch.set_num_threads(len(os.sched_getaffinity(0)))
        # exact candidates run their score blocks on the model's device (a GPU does 1M x 1M in minutes)
        frame = suggest(embeddings, top_k=10, exclude_kg1=seeds[:, 0], exclude_kg2=seeds[:, 1],
                        retrieval=retrieval, device=resolve_device(config.device))  # fmt: skip
    mark("candidates", t0)
    recall = (
        index_recall(embeddings, seeds, sample=1000, seed=seed, method=retrieval) if retrieval != "exact" else None
    )
    return {
        "n": n,
        "entities_per_kg": facts["entities_per_kg"],
        "triples": facts["triples"],
        "test_links": int(len(split.test)),
        "test_sample": test_sample,
        "retrieval": retrieval,
        "index_recall@10": recall,
        "graph_fanout": graph_fanout,
        "epochs": epochs,
        "overrides": overrides or {},
        "seconds": seconds,
        "peak_rss_mb": rss,
        "held_at_start_mb": held,
        "phase_peaks": True,  # peak_rss_mb is per phase (older records hold the process's running peak)
        "hits@1": h1,
        "one_to_one_hits@1": h1_one_to_one,
        "candidate_rows": int(len(frame)),
        "modalities": list(embeddings.modalities),
        "joint_dim": int(embeddings.dim),  # len(modalities) x config.dim: what --set dim=... gave
        "shape": facts["shape"],
        "device": config.device,
    }


def _return_freed_memory() -> None:
    """``malloc_trim(0)`` (glibc): hands memory freed by the last phase back to the system, so a
    phase's resident figures are its own and not the heap a previous phase left (a no-op elsewhere)."""
    import contextlib
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _train_and_embed(pair, config, split, seconds, start, mark) -> tuple[Any, float]:
    """Training then ``embed`` as two timed phases, without the test metrics; returns the embeddings
    and the standard protocol's H@1 (KG1 -> KG2, CSLS) on ``split.test``."""
    import torch

    from mimea_core.evaluation.protocols import rank_queries
    from mimea_core.evaluation.ranking import metrics_from_ranks
    from mimea_core.inference import embed
    from mimea_core.training.loop import fit

    t0 = start("train")
    fitted = fit(pair, config, split)
    mark("train", t0)
    seconds["epoch"] = round(fitted.history[0]["epoch_seconds"], 2)
    seconds["train"] = round(fitted.train_seconds, 2)  # the loop's own clock, as with evaluation
    t0 = start("embed")
    emb = embed(fitted.model, pair, inputs=fitted.inputs)
    del fitted
    mark("embed", t0)
    test = np.asarray(split.test, dtype=np.int64)
    A, B = (torch.from_numpy(x) for x in emb.joint)
    ranks = rank_queries(A, B, test, np.unique(test[:, 1]), csls_k=3)
    return emb, float(metrics_from_ranks(ranks["csls"])["hits@1"])


def index_recall(emb, seeds: np.ndarray, *, sample: int, seed: int, k: int = 10, method: str = "faiss") -> float:
    """recall@k of a faiss index (``method``; ``suggest``'s first, cosine) against exact search, for ``sample``
    random non-seed KG1 entities among the non-seed KG2 ones: how much the approximation misses at
    this size, where exact candidates for every source are out of reach."""

    from mimea_core.evaluation.similarity import normalize_rows
    from mimea_core.retrieval import InnerProductIndex, recall_at_k

    n1, n2 = emb.num_entities
    pool1, pool2 = np.setdiff1d(np.arange(n1), seeds[:, 0]), np.setdiff1d(np.arange(n2), seeds[:, 1])
    chosen = np.random.default_rng(seed).choice(pool1, min(sample, len(pool1)), replace=False)
    queries, base = normalize_rows(emb.joint[0][chosen]), normalize_rows(emb.joint[1][pool2])  # rows, then unit
    exact = InnerProductIndex(base).search(queries, k)[1]
    approx = InnerProductIndex(base, method=method).search(queries, k)[1]
    return recall_at_k(exact, approx)


def run_child(cmd: list[str]) -> tuple[int, list[str]]:
    """Run one size's child, echoing its progress lines as they come (a 1M size runs for an hour);
    returns its exit status and its ``RESULT`` lines. Its stderr goes straight to ours."""
    results = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("RESULT "):
                results.append(line)
            else:
                print(line, end="", flush=True)
    return proc.returncode, results


def fit_exponent(ns: list[int], ys: list[float]) -> float | None:
    """``b`` of ``y ≈ a N^b`` (least squares on logs); None with fewer than two sizes."""
    pts = [(x, y) for x, y in zip(ns, ys, strict=True) if y and y > 0]
    if len(pts) < 2:
        return None
    x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    return float(np.polyfit(x, y, 1)[0])


def _candidates_peak(record: dict[str, Any]) -> str:
    """The resident peak while candidates were made, the embeddings they are made from included,
    and (where recorded) how much of it the candidates added to what the process held at their
    start; "n/a" for records made before phase peaks were kept."""
    per_phase = record.get("phase_peaks") or "phase_peak_mb" in record  # the latter: records of 2026-12-03
    peak = record["peak_rss_mb"].get("candidates") if per_phase else None
    if not peak:
        return "n/a"
    held = (record.get("held_at_start_mb") or {}).get("candidates")
    return f"{peak:,.0f}" + (f" (+{peak - held:,.0f})" if held is not None else "")


def _recall(record: dict[str, Any]) -> str:
    value = record.get("index_recall@10")
    return "n/a" if value is None else f"{value:.3f}"


def _settings(record: dict[str, Any]) -> str:
    """The config fields a size was run with beyond the benchmark's own (``dim=64``), or "defaults"."""
    overrides = record.get("overrides") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "defaults"


def write_report(path: Path, payload: dict[str, Any]) -> None:
    rows = sorted(payload["records"], key=lambda r: r["n"])
    ns = [r["n"] for r in rows]
    lines = [
        "# Scale benchmark (synthetic DB15K-like pairs)",
        "",
        f"Command: `{payload['command']}`. One child process per size; seconds and peak RSS (MB: the",
        "process's resident high-water mark over the size's phases) on this shared CPU; load = /proc/loadavg",
        "(1, 5, 15 min) before/after the size. H@1 (standard, CSLS) is a sanity figure, not a target.",
        "",
        "| N per KG | entities (KG1, KG2) | triples | epochs | settings | graph per step | test links evaluated | candidates by | "
        + " | ".join(f"{p} s" for p in PHASES)
        + " | peak RSS MB | candidates' own peak MB (+ added to what was held) | faiss recall@10 (cosine, 1,000 sources) | H@1 | 1-to-1 H@1 | load before → after |",
        "|" + "---|" * (len(PHASES) + 14),
    ]
    for r in rows:
        s = r["seconds"]
        lines.append(
            f"| {r['n']:,} | {r['entities_per_kg'][0]:,}, {r['entities_per_kg'][1]:,} | "
            f"{r['triples'][0]:,}, {r['triples'][1]:,} | {r['epochs']} | {_settings(r)} | "
            f"{'whole graph' if not r.get('graph_fanout') else 'fanout ' + str(r['graph_fanout'])} | {r['test_links']:,} | {r.get('retrieval', 'exact')} | "
            + " | ".join(f"{s[p]:.1f}" if p in s else "n/a" for p in PHASES)
            + f" | {max(r['peak_rss_mb'].values()):,.0f} | {_candidates_peak(r)} | {_recall(r)} | {r['hits@1']:.3f} | {r['one_to_one_hits@1']:.3f} | "
            f"{r.get('load_before')} → {r.get('load_after')} |"
        )
    lines += ["", "Fitted cost exponent b (seconds ≈ a·N^b, log-log least squares over the sizes above):", ""]
    for p in PHASES:
        same = rows
        if p == "train":  # only comparable across sizes trained for the same number of epochs
            epochs = max({r["epochs"] for r in rows}, key=[r["epochs"] for r in rows].count)
            same = [r for r in rows if r["epochs"] == epochs]
        same = [r for r in same if p in r["seconds"]]
        b = fit_exponent([r["n"] for r in same], [r["seconds"][p] for r in same])
        note = f" (sizes trained {same[0]['epochs']} epochs)" if p == "train" and 0 < len(same) < len(rows) else ""
        lines.append(f"- {p}: " + ("n/a (fewer than two sizes)" if b is None else f"{b:.2f}") + note)
    b = fit_exponent(ns, [max(r["peak_rss_mb"].values()) for r in rows])
    lines.append("- peak RSS: " + ("n/a" if b is None else f"{b:.2f}"))
    if "env" in payload:
        lines += ["", environment_line(payload["env"])]
    else:  # files written before the shared stamp
        lines += ["", f"Machine: {payload['machine']}; commit {payload['commit']}; {payload['date']}."]
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    try:
        import plotly.graph_objects as go

        fig = go.Figure()
        for p in PHASES:
            fig.add_trace(go.Scatter(x=ns, y=[r["seconds"].get(p) for r in rows], mode="lines+markers", name=p))
        fig.update_layout(title="Seconds against entities per KG (log-log)", xaxis_title="N per KG",
                          yaxis_title="seconds", xaxis_type="log", yaxis_type="log", template="plotly_white")  # fmt: skip
        fig.write_image(path.with_suffix(".png"), width=900, height=560)
    except Exception as err:  # kaleido/chromium missing: table only
        print(f"plot not written ({type(err).__name__}: {err})")


def stats() -> None:
    from mimea_core.data import load_pair
    from mimea_core.data.synthetic import SyntheticSpec, degree_stats, synthetic_pair

    real = load_pair(str(Path(__file__).resolve().parents[1] / "datasets" / "fb15k-db15k.toml"))
    syn = synthetic_pair(SyntheticSpec(15000))
    for name, kg in (("FB15K", real.kg1), ("DB15K", real.kg2), ("SYN1", syn.kg1), ("SYN2", syn.kg2)):
        print(name, {k: round(v, 2) for k, v in degree_stats(kg).items()})


def main() -> int:
    p = argparse.ArgumentParser(description="scale benchmark on synthetic pairs")
    p.add_argument("--sizes", default="15000,100000")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seed", type=int, default=1, help="split and model seed")
    p.add_argument("--device", default="cpu")
    p.add_argument("--name", default="scale")
    p.add_argument("--out", type=Path, default=RESULTS, help="result folder")
    p.add_argument("--test-sample", type=int, default=0,
                   help="evaluate on this many sampled test links (0 = all; candidate pools stay full)")  # fmt: skip
    p.add_argument("--retrieval", default="exact", choices=METHODS, help="candidate search")
    p.add_argument("--graph-fanout", type=int, default=0,
                   help="0: each step propagates the whole graph; K: sampled neighbourhoods (model/sampling.py)")  # fmt: skip
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="a further MIMEAConfig field for every size (VALUE as JSON), e.g. --set dim=64")  # fmt: skip
    p.add_argument("--evaluate", action=argparse.BooleanOptionalAction, default=True,
                   help="--no-evaluate: skip the test metrics (their open protocol is N²); time embed alone")  # fmt: skip
    p.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)  # child mode
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--stats", action="store_true")
    args = p.parse_args()
    if args.stats:
        stats()
        return 0
    from mimea_core.commands.train import parse_overrides

    overrides = parse_overrides(args.overrides)
    if args.one is not None:
        record = measure(args.one, args.epochs, args.seed, args.device, args.test_sample, args.retrieval,
                         args.graph_fanout, overrides, args.evaluate)  # fmt: skip
        print("RESULT " + json.dumps(record), flush=True)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.name}.json"
    payload = json.loads(path.read_text()) if path.exists() else {"records": []}
    if not args.report_only:
        for n in (int(x) for x in args.sizes.split(",")):
            before = loadavg()
            cmd = [sys.executable, __file__, "--one", str(n), "--epochs", str(args.epochs),
                   "--seed", str(args.seed), "--device", args.device, "--test-sample", str(args.test_sample),
                   "--retrieval", args.retrieval, "--graph-fanout", str(args.graph_fanout),
                   *(f"--set={item}" for item in args.overrides),
                   "--evaluate" if args.evaluate else "--no-evaluate"]  # fmt: skip
            returncode, lines = run_child(cmd)
            if returncode or not lines:
                raise SystemExit(f"size {n} failed (exit {returncode})")
            record = json.loads(lines[-1][len("RESULT ") :])
            record.update({"load_before": before, "load_after": loadavg(), "command": shlex.join(cmd)})
            payload["records"] = [r for r in payload["records"] if r["n"] != n] + [record]
            payload.update({
                "command": (f"nice -n {os.nice(0)} " if os.nice(0) else "")  # as it ran: niceness too
                + "python benchmarks/scale.py " + shlex.join(sys.argv[1:]),
                "env": environment_stamp(Path(__file__).resolve().parents[1]),
            })  # fmt: skip
            path.write_text(json.dumps(payload, indent=1) + "\n")
            print(json.dumps({k: record[k] for k in ("n", "seconds", "peak_rss_mb", "hits@1")}))
    write_report(path, payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
