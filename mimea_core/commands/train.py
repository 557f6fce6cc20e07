"""``python -m mimea_core train PATH --seed-ratio 0.2 --out runs/NAME [flags]``."""

from __future__ import annotations

import argparse
import json
import logging
from typing import TYPE_CHECKING, Any

from mimea_core.config import DECODINGS, DEVICES, PSEUDO_METHODS, VALID_POOLS, MIMEAConfig
from mimea_core.errors import ConfigError
from mimea_core.registry import FUSIONS, GRAPH_ENCODERS, MODALITY_ENCODERS, choices_help

if TYPE_CHECKING:
    from mimea_core.metrics import AlignmentMetrics

NAME = "train"
HELP = "train MIMEA on a pair and evaluate it on the held-out test links"
DESCRIPTION = (
    "Train MIMEA on the pair at PATH (a folder holding one pair, or a *.toml pair description), "
    "select the model on validation MRR (10% of the training seeds), evaluate on the test links "
    "and write the run directory --out (weights, config, vocabularies, split, metrics.json, history)."
)

_DEFAULTS = MIMEAConfig()
log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("path", metavar="PATH", help="dataset: pair folder or *.toml pair description")
    p.add_argument("--out", required=True, help="run directory to write (replaced atomically if it exists)")
    p.add_argument("--seed-ratio", type=float, default=0.2, help="share of gold links used as seeds")
    p.add_argument("--split-seed", type=int, default=0, help="random seed of the seed/valid/test split")
    p.add_argument("--seed", type=int, default=_DEFAULTS.seed, help="random seed of the model and training")
    p.add_argument("--device", choices=DEVICES, default="auto", help="auto = CUDA when available, else CPU")
    p.add_argument("--deterministic", action="store_true", default=_DEFAULTS.deterministic,
                   help="deterministic torch kernels where they exist (warn where not) and a fixed cuBLAS "
                   "workspace; see the README on what is bit-reproducible on CUDA")  # fmt: skip
    p.add_argument("--epochs", type=int, default=_DEFAULTS.epochs, help="maximum epochs")
    p.add_argument("--time-budget", type=float, default=None, help="stop training after this many seconds")
    p.add_argument(
        "--modalities",
        default=",".join(_DEFAULTS.modalities),
        help=f"comma-separated subset of {','.join(MODALITY_ENCODERS)} (visual needs feature files; "
        "modalities without data are left out)",
    )
    p.add_argument("--fusion", choices=list(FUSIONS), default=_DEFAULTS.fusion, help=choices_help(FUSIONS))
    p.add_argument("--ot", dest="use_ot", action=argparse.BooleanOptionalAction, default=_DEFAULTS.use_ot,
                   help="optimal-transport modal alignment; --no-ot uses the naive mean alignment instead")  # fmt: skip
    p.add_argument("--cross-modal", dest="cross_modal", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.cross_modal,
                   help="cross-modal attention between modality tokens, fused into the joint embedding")  # fmt: skip
    p.add_argument("--modal-contrastive", dest="modal_contrastive", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.modal_contrastive,
                   help="per-modality contrastive terms, weighted by the fusion weights (per batch; "
                   "--set modal_weighting=pair: per pair)")  # fmt: skip
    p.add_argument("--pseudo-seeding", dest="pseudo_seeding", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.pseudo_seeding,
                   help="iterative pseudo-seeding (mutual nearest neighbours above a threshold)")  # fmt: skip
    p.add_argument("--pseudo-method", choices=PSEUDO_METHODS, default=_DEFAULTS.pseudo_method,
                   help="mnn: re-mine cosine mutual nearest neighbours each time; stable: accumulate "
                   "mutual CSLS neighbours confirmed in two successive minings")  # fmt: skip
    p.add_argument("--pseudo-cap", type=int, default=_DEFAULTS.pseudo_cap,
                   help="most new pseudo-seeds per mining (stable method; default no cap)")  # fmt: skip
    p.add_argument("--value-anchors", dest="value_anchors", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.value_anchors,
                   help="label-free anchors: mutual nearest pairs of agreeing attribute values, mined "
                   "before training and trained on from epoch 1 (--anchor-min-shared, --anchor-margin)")  # fmt: skip
    p.add_argument("--anchor-min-shared", type=int, default=_DEFAULTS.anchor_min_shared,
                   help="value anchors: fewest shared value tokens of a pair (one agreeing value gives 2-3)")  # fmt: skip
    p.add_argument("--anchor-margin", type=float, default=_DEFAULTS.anchor_margin,
                   help="value anchors: least gap between the best and second-best cosine (row and column)")  # fmt: skip
    p.add_argument("--valid-pool", choices=VALID_POOLS, default=_DEFAULTS.valid_pool,
                   help="model selection: rank validation sources among the validation targets (valid) "
                   "or among every KG2 entity that is not a training seed (open)")  # fmt: skip
    p.add_argument("--restore-best", dest="restore_best", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.restore_best,
                   help="keep the weights of the best validation epoch; --no-restore-best keeps the last "
                   "epoch's (validation still logged and used for early stopping)")  # fmt: skip
    p.add_argument("--decoding", choices=DECODINGS, default=_DEFAULTS.decoding,
                   help="ranking of the test matrix: csls, or sinkhorn (entropic transport plan of the "
                   "cosine matrix, --decoding-reg; standard protocol headline, open and one-to-one stay CSLS)")  # fmt: skip
    p.add_argument("--decoding-reg", type=float, default=_DEFAULTS.decoding_reg,
                   help="sinkhorn decoding: entropic regularisation (similarity units)")  # fmt: skip
    p.add_argument("--value-frozen", dest="value_frozen", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.value_frozen,
                   help="value modality: keep the random token map (label-free) rather than learn it")  # fmt: skip
    p.add_argument("--structure-frozen", dest="structure_frozen", action=argparse.BooleanOptionalAction,
                   default=_DEFAULTS.structure_frozen,
                   help="structure modality: keep the random projection of the propagated labels fixed")  # fmt: skip
    p.add_argument("--graph-encoder", choices=list(GRAPH_ENCODERS), default=_DEFAULTS.graph_encoder,
                   help=choices_help(GRAPH_ENCODERS))  # fmt: skip
    p.add_argument("--graph-fanout", type=int, default=_DEFAULTS.graph_fanout,
                   help="0: each training step propagates the whole graph; K > 0: only the batch's sampled "
                   "neighbourhoods (<= K in-edges per node and hop), for large graphs")  # fmt: skip
    p.add_argument("--dim", type=int, default=_DEFAULTS.dim, help="dimension of each modality embedding")
    p.add_argument("--batch-size", type=int, default=_DEFAULTS.batch_size, help="seed pairs per optimizer step")
    p.add_argument("--lr", type=float, default=_DEFAULTS.lr, help="AdamW learning rate")
    p.add_argument("--tau", type=float, default=_DEFAULTS.tau, help="InfoNCE temperature")
    p.add_argument("--visual-features", nargs=2, metavar=("KG1_FILE", "KG2_FILE"), default=None,
                   help="visual feature files (.npy with <stem>_ids.txt beside it, or .pkl with --allow-pickle)")  # fmt: skip
    p.add_argument("--allow-pickle", action="store_true",
                   help="allow loading pickled feature files (only from paths you trust)")  # fmt: skip
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="FIELD=VALUE",
                   help="set any MIMEAConfig field (VALUE as JSON, e.g. --set entity_dropout=0.5)")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["dim=64", "lr=0.001"]`` -> ``{"dim": 64, "lr": 0.001}`` (``--set FIELD=VALUE``, VALUE as JSON
    or else a string); the fields are checked when the config is built."""
    fields: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected FIELD=VALUE")
        fields[key.strip()] = _parse_value(value)
    return fields


def config_from_args(args: argparse.Namespace) -> MIMEAConfig:
    modalities = tuple(m.strip() for m in args.modalities.split(",") if m.strip())
    fields: dict[str, Any] = dict(
        modalities=modalities, fusion=args.fusion, use_ot=args.use_ot,
        modal_contrastive=args.modal_contrastive, cross_modal=args.cross_modal,
        pseudo_seeding=args.pseudo_seeding, pseudo_method=args.pseudo_method, pseudo_cap=args.pseudo_cap,
        value_anchors=args.value_anchors, anchor_min_shared=args.anchor_min_shared,
        anchor_margin=args.anchor_margin, decoding=args.decoding, decoding_reg=args.decoding_reg,
        valid_pool=args.valid_pool, restore_best=args.restore_best,
        value_frozen=args.value_frozen, structure_frozen=args.structure_frozen,
        graph_encoder=args.graph_encoder, graph_fanout=args.graph_fanout, dim=args.dim,
        batch_size=args.batch_size, lr=args.lr, tau=args.tau, epochs=args.epochs, seed=args.seed,
        device=args.device, time_budget=args.time_budget, deterministic=args.deterministic,
    )  # fmt: skip
    fields.update(parse_overrides(args.overrides))
    return MIMEAConfig.from_dict({**MIMEAConfig().to_dict(), **fields})


def _summary(metrics: AlignmentMetrics) -> str:
    lines = [f"{metrics.dataset}  seeds {metrics.seed_ratio:g}  modalities {','.join(metrics.modalities or [])}"]
    for proto in ("standard", "open"):
        m = getattr(metrics, proto)
        how = "Sinkhorn" if proto == "standard" and metrics.extra.get("decoding") == "sinkhorn" else "CSLS"
        lines.append(f"  {proto:9s} H@1 {m['hits@1']:.4f}  H@10 {m['hits@10']:.4f}  MRR {m['mrr']:.4f}  (KG1->KG2, {how})")
    lines.append(f"  one-to-one H@1 {metrics.one_to_one['hits@1']:.4f}")
    lines.append(
        f"  {metrics.epochs} epochs, {metrics.train_seconds:.1f} s training, "
        f"peak RSS {metrics.peak_rss_mb:.0f} MB, device {metrics.device}"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from mimea_core.data import load_pair, make_split
    from mimea_core.training import TqdmProgress, train
    from mimea_core.training.distributed import init_from_env

    config = config_from_args(args)
    world = init_from_env(config.device)  # under torchrun: join the group (data-parallel training)
    features = {"visual": tuple(args.visual_features)} if args.visual_features else None
    pair = load_pair(args.path, features=features, allow_pickle=args.allow_pickle)
    split = make_split(pair, seed_ratio=args.seed_ratio, seed=args.split_seed)
    bar = TqdmProgress(disable=args.quiet or world.rank > 0)
    try:
        result = train(pair, config, split=split, out_dir=args.out, progress=bar)
    finally:
        bar.close()
    if world.rank == 0:
        print(_summary(result.metrics))
        print(f"run written to {result.run_dir}")
    return 0


def build_config_parser_for_tests() -> argparse.ArgumentParser:
    """The ``train`` argument parser alone (tests check flag -> config mapping without training)."""
    parser = argparse.ArgumentParser(prog="train")
    add_arguments(parser)
    return parser
