"""``python -m mimea_core evaluate RUN [--csls-k 3] [--json]``: test metrics of a finished run."""

from __future__ import annotations

import argparse
import json
import logging
import math
from typing import TYPE_CHECKING, Any

from mimea_core.config import DECODINGS, DEVICES, MIMEAConfig
from mimea_core.errors import RunError

if TYPE_CHECKING:
    from mimea_core.metrics import AlignmentMetrics

NAME = "evaluate"
HELP = "evaluate a trained run on its test links (standard and open protocols, one-to-one)"
DESCRIPTION = (
    "Load the run directory RUN (written by `train`), embed its dataset and print the test metrics: "
    "standard protocol (rank among the test targets, as papers report), open protocol (rank among all "
    "KG2 entities not used as seeds) and one-to-one decoding, KG1->KG2 with CSLS, then both directions "
    "with cosine and CSLS. The model is never selected on these figures."
)
log = logging.getLogger(__name__)


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by the commands that load a run (``evaluate``, ``suggest``)."""
    p.add_argument(
        "run", metavar="RUN", help="run directory written by `python -m mimea_core train --out RUN`"
    )
    p.add_argument(
        "--dataset", metavar="PATH", default=None,
        help="dataset PATH to embed (default: the one recorded in the run; use this when it moved)",
    )  # fmt: skip
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto = CUDA when available, else CPU")
    p.add_argument("--csls-k", type=int, default=3, help="CSLS neighbourhood size (0: plain cosine)")
    p.add_argument(
        "--visual-features", nargs=2, metavar=("KG1_FILE", "KG2_FILE"), default=None,
        help="the visual feature files the run was trained with, if any",
    )  # fmt: skip
    p.add_argument(
        "--allow-pickle", action="store_true",
        help="allow loading pickled feature files (a pickle can run code: only files you trust)",
    )  # fmt: skip


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p)
    p.add_argument("--decoding", choices=DECODINGS, default=MIMEAConfig().decoding,
                   help="ranking of the standard test matrix: csls, or sinkhorn (entropic plan of the cosine "
                   "matrix; the detail table then has a sinkhorn row)")  # fmt: skip
    p.add_argument("--decoding-reg", type=float, default=MIMEAConfig().decoding_reg,
                   help="sinkhorn decoding: entropic regularisation")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the metrics as JSON instead of tables")


def load_run_embeddings(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    """``(run, pair, embeddings)`` for a run directory; user errors are :class:`MimeaError`."""
    from mimea_core.data import load_pair
    from mimea_core.inference import embed
    from mimea_core.runs import load_run

    if args.csls_k < 0:
        raise RunError(f"--csls-k must be >= 0, got {args.csls_k}")
    run = load_run(args.run, device=args.device)
    dataset = args.dataset or run.dataset
    if not dataset:
        raise RunError(f"{args.run}: the run does not record its dataset; pass --dataset PATH")
    features = {"visual": tuple(args.visual_features)} if args.visual_features else None
    pair = load_pair(dataset, features=features, allow_pickle=args.allow_pickle)
    recorded = run.meta.get("fingerprint")
    if recorded and pair.fingerprint and recorded != pair.fingerprint:
        log.warning("%s: the data changed since the run was trained (fingerprint differs)", dataset)
    return run, pair, embed(run.model, pair)


def run(args: argparse.Namespace) -> int:
    from mimea_core.evaluation import evaluate

    loaded, pair, emb = load_run_embeddings(args)
    if not args.decoding_reg > 0:
        raise RunError(f"--decoding-reg must be > 0, got {args.decoding_reg}")
    metrics = evaluate(emb, loaded.split, csls_k=args.csls_k, device=loaded.model.device,
                       decoding=args.decoding, decoding_reg=args.decoding_reg)  # fmt: skip
    header = {
        "run": str(loaded.run_dir),
        "dataset": pair.name,
        "seed_ratio": float(loaded.split.seed_ratio),
        "split_seed": int(loaded.split.seed),
        "test_links": int(len(loaded.split.test)),
        "csls_k": args.csls_k,
        "decoding": args.decoding,
    }
    if args.json:
        print(json.dumps({**header, **metrics.to_dict()}, indent=2))
    else:
        print(format_metrics(header, metrics))
    return 0


def _fmt(x: float) -> str:
    return "   -  " if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4f}"


def format_metrics(header: dict[str, Any], metrics: AlignmentMetrics) -> str:
    """The headline table, then the detail table (both protocols x directions x similarities)."""
    lines = [
        f"{header['dataset']}  run {header['run']}",
        f"seed ratio {header['seed_ratio']:g} (split seed {header['split_seed']}), "
        f"{header['test_links']:,} test links, CSLS k={header['csls_k']}",
        "",
        f"{'':12}{'H@1':>8}{'H@10':>8}{'MRR':>8}",
    ]
    for proto in ("standard", "open"):
        m = getattr(metrics, proto)
        how = "Sinkhorn" if proto == "standard" and metrics.extra.get("decoding") == "sinkhorn" else "CSLS"
        lines.append(
            f"{proto:12}{_fmt(m['hits@1']):>8}{_fmt(m['hits@10']):>8}{_fmt(m['mrr']):>8}   KG1->KG2, {how}"
        )
    lines.append(
        f"{'one-to-one':12}{_fmt(metrics.one_to_one['hits@1']):>8}{'':16}   KG1->KG2, CSLS, standard"
    )
    lines += ["", f"{'protocol':10}{'direction':11}{'similarity':12}{'H@1':>8}{'H@10':>8}{'MRR':>8}"]
    names = {"l2r": "KG1->KG2", "r2l": "KG2->KG1"}
    for proto, by_direction in metrics.detail.items():
        for direction, by_sim in by_direction.items():
            for sim, m in by_sim.items():
                lines.append(
                    f"{proto:10}{names.get(direction, direction):11}{sim:12}"
                    f"{_fmt(m['hits@1']):>8}{_fmt(m['hits@10']):>8}{_fmt(m['mrr']):>8}"
                )
    return "\n".join(lines)
