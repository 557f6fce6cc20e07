"""``python -m mimea_core suggest RUN --top-k 10 --out FILE.csv [--sources ...]``: candidate pairs."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mimea_core.commands.evaluate import add_run_arguments, load_run_embeddings
from mimea_core.errors import ConfigError, MimeaError
from mimea_core.fileio import atomic_writer, spreadsheet_safe
from mimea_core.retrieval import CHOICES

NAME = "suggest"
HELP = "write top-k candidate KG2 matches for KG1 entities (with names, flags, per-modality detail) to CSV"
DESCRIPTION = (
    "Load the run directory RUN, embed its dataset and write, for each KG1 entity (default: every one "
    "not used as a training/validation seed), its top-k KG2 candidates (seed targets excluded) ranked "
    "by CSLS: score, margin to the runner-up, mutual-nearest-neighbour and one-to-one flags, and per "
    "modality the similarity and the fusion weights with their uncertainty."
)
NAME_COLUMNS = ("source_entity", "source_name", "target_entity", "target_name")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_run_arguments(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="CSV file to write (replaced atomically)")
    p.add_argument("--top-k", type=int, default=10, help="candidates per source entity")
    p.add_argument(
        "--sources", nargs="+", metavar="ENTITY", default=None,
        help="only these KG1 entities: identifiers as in the data (e.g. /m/0abc) or exact display names",
    )  # fmt: skip
    p.add_argument(
        "--include-seeds", action="store_true",
        help="keep training/validation seed entities (and accepted extra seeds) as sources and candidates",
    )  # fmt: skip
    p.add_argument(
        "--chunk-size", type=int, default=4096, help="most source rows scored at once (bounds memory)"
    )
    p.add_argument(
        "--retrieval", choices=CHOICES, default="auto",
        help="exact: every pair scored (in blocks); faiss: approximate inverted-file search, for large "
        "graphs (needs faiss-cpu); faiss-sq8: the same with 8-bit codes, a quarter of the index memory; "
        "auto (default): exact on a GPU or up to 50,000 x 50,000 pairs, else faiss when installed",
    )  # fmt: skip
    p.add_argument("--nprobe", type=int, default=32, help="faiss: cells searched per source (more: higher recall, slower)")


def resolve_sources(values: Sequence[str], identifiers: list[str], names: list[str]) -> np.ndarray:
    """Local KG1 ids for entity identifiers or (unique) display names; ConfigError names the unknown ones."""
    by_id = {e: i for i, e in enumerate(identifiers)}
    by_name: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        by_name.setdefault(n, []).append(i)
    out, unknown, ambiguous = [], [], []
    for v in values:
        if v in by_id:
            out.append(by_id[v])
        elif len(by_name.get(v, [])) == 1:
            out.append(by_name[v][0])
        elif v in by_name:
            ambiguous.append(v)
        else:
            unknown.append(v)
    if unknown or ambiguous:
        parts = []
        if unknown:
            parts.append(f"not a KG1 entity identifier or name: {', '.join(map(repr, unknown[:5]))}")
        if ambiguous:
            parts.append(
                f"names shared by several KG1 entities (use the identifier): {', '.join(map(repr, ambiguous[:5]))}"
            )
        raise ConfigError("--sources: " + "; ".join(parts))
    return np.asarray(out, dtype=np.int64)


def write_csv_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically (never a half-written file); text cells are made spreadsheet-safe."""
    if not path.parent.is_dir():
        raise MimeaError(f"{path}: cannot write, folder {path.parent} does not exist")
    safe = frame.copy()
    for column in safe.columns:
        if pd.api.types.is_object_dtype(safe[column]) or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_safe)
    try:
        with atomic_writer(path) as f:
            safe.to_csv(f, index=False, float_format="%.6g")
    except OSError as err:
        raise MimeaError(f"{path}: cannot write ({err})") from err


def run(args: argparse.Namespace) -> int:
    from mimea_core.candidates import suggest

    if args.top_k < 1:
        raise ConfigError(f"--top-k must be >= 1, got {args.top_k}")
    if args.chunk_size < 1:
        raise ConfigError(f"--chunk-size must be >= 1, got {args.chunk_size}")
    if args.nprobe < 1:
        raise ConfigError(f"--nprobe must be >= 1, got {args.nprobe}")
    loaded, pair, emb = load_run_embeddings(args)
    exclude1 = exclude2 = None
    if not args.include_seeds:
        split = loaded.split
        seeds = np.concatenate([split.train, split.valid, np.asarray(loaded.extra_seeds).reshape(-1, 2)])
        exclude1, exclude2 = np.unique(seeds[:, 0]), np.unique(seeds[:, 1])
    sources = resolve_sources(args.sources, pair.kg1.entities, pair.kg1.names) if args.sources else None
    df = suggest(
        emb, top_k=args.top_k, sources=sources, exclude_kg1=exclude1, exclude_kg2=exclude2,
        csls_k=args.csls_k, chunk_size=args.chunk_size, device=loaded.model.device,
        retrieval=args.retrieval, nprobe=args.nprobe,
    )  # fmt: skip
    src, tgt = df["source"].to_numpy(), df["target"].to_numpy()
    named = {
        "source_entity": np.asarray(pair.kg1.entities, dtype=object)[src],
        "source_name": np.asarray(pair.kg1.names, dtype=object)[src],
        "target_entity": np.asarray(pair.kg2.entities, dtype=object)[tgt],
        "target_name": np.asarray(pair.kg2.names, dtype=object)[tgt],
    }
    out = pd.concat(
        [
            df[["source", "target"]],
            pd.DataFrame(named, index=df.index),
            df.drop(columns=["source", "target"]),
        ],
        axis=1,
    )
    path = Path(args.out)
    write_csv_atomically(out, path)
    top, method = df[df["rank"] == 1], df.attrs["retrieval"]
    print(
        f"wrote {len(df):,} candidates for {df['source'].nunique():,} source entities to {path} "
        f"({int(top['mutual_nn'].sum()):,} mutual nearest neighbours, {int(df['one_to_one'].sum()):,} one-to-one; "
        + ("exact search)" if method == "exact" else f"{method} search, nprobe {args.nprobe}: approximate)")
    )
    return 0
