"""What each query rule's first picks are made of, from the model a curator starts with (issue 11).

A development probe, run on the development split seed only (``DEV_SEED`` of
``benchmarks/active_learning.py``; never a reported seed): it trains the simulated curator's initial
model once, ranks its query queue, and for each rule reports the share of its first ``--picks``
sources that

- have a counterpart in KG2 at all (a "no counterpart" answer adds no seed),
- have one that the model ranks wrong (*corrections*: the answers that teach the model most),
- have one that the model ranks right (*confirmations*).

No retraining between picks: it shows what a rule asks about, not what the answers earn (that is
``benchmarks/active_learning.py``). For the learnt P(counterpart)
(:class:`~mimea_core.curation.active.CounterpartModel`) the answers of ``--answers`` randomly chosen
sources are the fit's data (20 draws averaged), and those sources are not picked again.

    nice -n 10 .venv/bin/python benchmarks/active_learning_probe.py --pair fb15k-db15k --initial-epochs 24

Writes ``benchmarks/results/active_learning_probe-<pair>.md`` and ``.json``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.active_learning import DEV_SEED, NO_NAMES, PAIRS, RESULTS  # noqa: E402


def composition(picked_sources: np.ndarray, has: dict[int, bool], right: dict[int, bool]) -> dict[str, float]:
    h = np.array([has[int(s)] for s in picked_sources])
    r = np.array([right[int(s)] for s in picked_sources])
    return {"with counterpart": float(h.mean()), "corrections": float((h & ~r).mean()), "confirmations": float(r.mean())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=list(PAIRS), default="fb15k-db15k")
    parser.add_argument("--initial-epochs", type=int, default=24)
    parser.add_argument("--picks", type=int, default=400)
    parser.add_argument("--answers", type=int, default=100, help="answered sources the learnt P(counterpart) is fitted on")
    args = parser.parse_args(argv)

    from sklearn.metrics import roc_auc_score

    from mimea_core.benchmarking.active import oracle_setup, query_queue
    from mimea_core.benchmarking.records import environment_stamp, load_average
    from mimea_core.config import MIMEAConfig
    from mimea_core.curation.active import (
        CounterpartModel,
        Labels,
        QueryConfig,
        counterpart_features,
        initial_fit,
        select_batch,
    )
    from mimea_core.data import load_pair
    from mimea_core.inference import embed

    pair = load_pair(PAIRS[args.pair])
    defaults = MIMEAConfig()
    config = defaults.replace(modalities=tuple(m for m in defaults.modalities if m != NO_NAMES), seed=DEV_SEED)
    setup = oracle_setup(pair, DEV_SEED)
    t0 = time.perf_counter()
    fitted = initial_fit(pair, config, setup.split, args.initial_epochs)
    print(f"initial model {time.perf_counter() - t0:.0f} s", flush=True)
    queue = query_queue(embed(fitted.model, pair, inputs=fitted.inputs), setup, Labels.empty())
    known = dict(zip(setup.known[:, 0].tolist(), setup.known[:, 1].tolist(), strict=True))
    sources = queue["source"].to_numpy(np.int64)
    has = {int(s): int(s) in known for s in sources}
    right = {int(s): known.get(int(s), -2) == int(t) for s, t in zip(sources, queue["target"], strict=True)}
    y_has = np.array([has[int(s)] for s in sources])
    structure = setup.structure(pair, Labels.empty())
    rows: dict[str, dict[str, float]] = {}
    rules = {
        "random": ("random", QueryConfig()),
        "highest score": ("highest score", QueryConfig()),
        "informative (default)": ("informative", QueryConfig()),
        "informative, uncertainty only (β=1)": ("informative", QueryConfig(uncertainty_weight=1.0)),
        "informative, γ=1": ("informative", QueryConfig(match_power=1.0)),
        "informative, γ=2": ("informative", QueryConfig(match_power=2.0)),
    }
    for name, (strategy, query) in rules.items():
        picked = select_batch(queue, strategy, args.picks, seed=DEV_SEED, structure=structure, query=query)
        rows[name] = composition(picked["source"].to_numpy(), has, right)
    feats = counterpart_features(queue)
    for name, beta in (("informative, learnt P(counterpart)", 0.5), ("informative β=1, learnt P(counterpart)", 1.0)):
        draws = []
        for draw in range(20):
            asked = np.random.default_rng(draw).choice(len(queue), args.answers, replace=False)
            model = CounterpartModel.fit(feats[asked], y_has[asked])
            rest = queue.drop(index=queue.index[asked]).reset_index(drop=True)
            picked = select_batch(rest, "informative", args.picks, seed=DEV_SEED, structure=structure,
                                  query=QueryConfig(uncertainty_weight=beta, learn_counterpart=True), counterpart=model)  # fmt: skip
            draws.append(composition(picked["source"].to_numpy(), has, right))
        rows[name] = {k: float(np.mean([d[k] for d in draws])) for k in draws[0]}
    auc = {f: float(roc_auc_score(y_has, queue[f].astype(float).fillna(0))) for f in ("score", "margin", "mutual_nn")}
    meta = {"command": shlex.join(["python", "benchmarks/active_learning_probe.py", *(argv if argv is not None else sys.argv[1:])]),
            "env": environment_stamp(REPO_ROOT), "load": load_average(), "queue": len(queue),
            "with counterpart in queue": float(y_has.mean()), "auc_has_counterpart": auc}  # fmt: skip
    stem = RESULTS / f"active_learning_probe-{args.pair}"
    stem.with_suffix(".json").write_text(json.dumps({**meta, "rules": rows}, indent=1) + "\n", encoding="utf-8")
    lines = [
        f"# What each rule asks about first ({args.pair}, development split seed {DEV_SEED})",
        "",
        f"Command: `{meta['command']}`  ",
        f"Commit {meta['env']['commit']}, {meta['env']['date']}, load {meta['load']}.  ",
        f"Queue: {len(queue):,} sources, {y_has.mean():.1%} with a counterpart. Share of the first {args.picks} picks "
        f"from the initial model (no retraining between picks; learnt P(counterpart): fitted on {args.answers} random "
        "answered sources, 20 draws).  ",
        "AUC of 'has a counterpart' against the queue row's " + ", ".join(f"{k} {v:.3f}" for k, v in auc.items()) + ".",
        "",
        "| rule | with counterpart | corrections (model wrong) | confirmations (model right) |",
        "|---|---:|---:|---:|",
        *(f"| {k} | {v['with counterpart']:.3f} | {v['corrections']:.3f} | {v['confirmations']:.3f} |" for k, v in rows.items()),
    ]  # fmt: skip
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
