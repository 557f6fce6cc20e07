"""``python -m mimea_core info PATH``: load a pair and print its counts, coverage and warnings."""

from __future__ import annotations

import argparse
import json

from mimea_core.data import load_pair
from mimea_core.data.summary import summarize

NAME = "info"
HELP = "load a dataset and print per-KG counts, modality coverage, links and warnings"
DESCRIPTION = (
    "Load PATH (a folder holding one pair, or a *.toml pair description such as datasets/fb15k-db15k.toml) "
    "and print what was read. Exits non-zero with a one-line message when the data cannot be read."
)
MODALITIES = ("graph", "relation", "attribute", "name", "visual", "images")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="pair folder or *.toml pair description")
    parser.add_argument(
        "--strict", action="store_true", help="turn duplicate and one-to-many links into errors"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="parse the files even when a cached copy exists"
    )
    parser.add_argument(
        "--visual",
        nargs=2,
        metavar=("KG1_FILE", "KG2_FILE"),
        help="visual feature files (.npy with <stem>_ids.txt beside it, or .pkl with --allow-pickle); '-' for none",
    )
    parser.add_argument(
        "--allow-pickle",
        action="store_true",
        help="allow loading the pickle feature files named here (a pickle can run code: only for files you trust)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def format_summary(summary: dict) -> str:
    kgs = (summary["kg1"], summary["kg2"])
    width = max(len(k["name"]) for k in kgs) + 2
    rows = [
        ("entities", "entities"),
        ("relations", "relations"),
        ("relation triples", "triples"),
        ("  duplicates dropped", "dropped_duplicate_triples"),
        ("attributes", "attributes"),
        ("attribute triples", "attribute_triples"),
        ("  duplicates dropped", "dropped_duplicate_attributes"),
    ]
    lines = [
        f"{summary['name']}  ({summary['source']})",
        "",
        f"{'':24}" + "".join(f"{k['name']:>{width + 8}}" for k in kgs),
    ]
    for label, key in rows:
        lines.append(f"{label:24}" + "".join(f"{k[key]:>{width + 8},}" for k in kgs))
    lines.append("modality coverage")
    for modality in MODALITIES:
        lines.append(f"  {modality:22}" + "".join(f"{k['coverage'][modality]:>{width + 8}.1%}" for k in kgs))
    for k in kgs:
        for m, f in k["features"].items():
            lines.append(
                f"features {k['name']} {m}: dim {f['dim']}, coverage {f['coverage']:.1%} ({f['source']})"
            )
    links = summary["links"]
    lines += [
        "",
        f"links: {links['total']:,} ({links['kg1_entities']:,} {kgs[0]['name']} and {links['kg2_entities']:,} "
        f"{kgs[1]['name']} entities; one-to-many: {links['one_to_many_kg2']} {kgs[1]['name']}, "
        f"{links['one_to_many_kg1']} {kgs[0]['name']} entities linked more than once)",
    ]
    warnings = summary["warnings"]
    lines.append(f"warnings: {len(warnings)}" if warnings else "warnings: none")
    lines += [f"  - {w}" for w in warnings]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    features = None
    if args.visual:
        features = {"visual": tuple(None if f == "-" else f for f in args.visual)}
    pair = load_pair(
        args.path,
        strict=args.strict,
        use_cache=not args.no_cache,
        features=features,
        allow_pickle=args.allow_pickle,
    )
    summary = summarize(pair)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0
