"""Memory bound of candidate generation: synthetic 200k x 200k entities, random 128-d embeddings.

Runs :func:`mimea_core.candidates.suggest` (CSLS k=3, top-10) on random L2-normalised embeddings and
reports wall time and peak resident memory, to show that chunked top-k keeps memory linear in the
number of entities (a dense 200k x 200k float32 score matrix alone would take 149 GiB).
``--modalities M --modality-dim D`` gives the embeddings a trained model's shape (M per-modality
spaces of D dimensions with fusion weights, the joint space their concatenation; KG2 rows are noisy
copies of KG1's, around shared cluster centres), so the per-modality columns are computed too;
``--retrieval faiss|faiss-sq8`` searches approximately (``--nprobe`` cells).

    .venv/bin/python benchmarks/candidates_memory.py            # the full 200k x 200k run
    .venv/bin/python benchmarks/candidates_memory.py --n1 20000 --n2 20000 --name small
    .venv/bin/python benchmarks/candidates_memory.py --n1 1100000 --n2 1100000 --modalities 4 \
        --modality-dim 64 --retrieval faiss-sq8 --name candidates_memory-1m-sq8

Writes ``benchmarks/results/<name>.json`` and ``.md`` (default name ``candidates_memory``).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from mimea_core.benchmarking.records import environment_line, environment_stamp
from mimea_core.candidates import suggest
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation.similarity import normalize_rows
from mimea_core.retrieval import METHODS
from mimea_core.training.runtime import peak_rss_mb, reset_peak_rss

RESULTS = Path(__file__).resolve().parent / "results"


def rss_mb() -> float:
    """Current resident set size (Linux /proc), in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def random_embeddings(n1: int, n2: int, dim: int, seed: int) -> Embeddings:
    gen = torch.Generator().manual_seed(seed)
    e1 = torch.nn.functional.normalize(torch.randn(n1, dim, generator=gen), dim=1).numpy()
    e2 = torch.nn.functional.normalize(torch.randn(n2, dim, generator=gen), dim=1).numpy()
    return Embeddings(modalities=[], joint=(e1, e2))


def model_shaped_embeddings(n1: int, n2: int, modalities: int, dim: int, seed: int) -> Embeddings:
    """``modalities`` spaces of ``dim`` dimensions per KG, float32 unit rows: rows of KG1 around
    ``sqrt(n1)`` random centres, row ``i`` of KG2 a noisy copy of KG1's row ``i % n1``; fusion
    weights from a Dirichlet(1) per entity with small variances; the joint rows their weighted
    concatenation, L2-normalised (what :func:`mimea_core.inference.embed` hands over)."""
    gen = torch.Generator().manual_seed(seed)
    names = [f"m{i}" for i in range(modalities)]
    centres = torch.randn(max(1, int(n1**0.5)), modalities * dim, generator=gen)
    base = centres[torch.randint(len(centres), (n1,), generator=gen)]
    base += 0.7 * torch.randn(n1, modalities * dim, generator=gen)
    sides = (base, base[torch.arange(n2) % n1] + 0.5 * torch.randn(n2, modalities * dim, generator=gen))
    del base
    emb = Embeddings(modalities=names, joint=(np.empty(0), np.empty(0)))
    joint = []
    for side in sides:
        w = torch.distributions.Dirichlet(torch.ones(modalities)).sample((len(side),))
        spaces = [normalize_rows(side[:, i * dim : (i + 1) * dim]) for i in range(modalities)]
        joint.append(normalize_rows(torch.cat([s * w[:, i : i + 1].sqrt() for i, s in enumerate(spaces)], dim=1)).numpy())
        for i, m in enumerate(names):
            for table, value in ((emb.per_modality, spaces[i].numpy()), (emb.weights, w[:, i].numpy()),
                                 (emb.weight_var, (0.01 * w[:, i]).numpy()), (emb.present, np.ones(len(side), bool))):  # fmt: skip
                table[m] = (*table.get(m, ()), value)
    emb.joint = (joint[0], joint[1])
    return emb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n1", type=int, default=200_000, help="KG1 entities")
    parser.add_argument("--n2", type=int, default=200_000, help="KG2 entities")
    parser.add_argument("--dim", type=int, default=128, help="embedding dimension")
    parser.add_argument("--top-k", type=int, default=10, help="candidates per source")
    parser.add_argument("--csls-k", type=int, default=3, help="CSLS neighbourhood (0: cosine)")
    parser.add_argument("--chunk-size", type=int, default=4096, help="most rows per score block")
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--modalities", type=int, default=0, help="per-modality spaces (0: a joint space only)")
    parser.add_argument("--modality-dim", type=int, default=64, help="dimensions per modality space")
    parser.add_argument("--retrieval", default="exact", choices=METHODS, help="candidate search")
    parser.add_argument("--nprobe", type=int, default=32, help="faiss cells searched per query")
    parser.add_argument(
        "--name", default="candidates_memory", help="result file stem under benchmarks/results"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])
    print(f"command: {command}", flush=True)
    t0 = time.perf_counter()
    emb = (
        model_shaped_embeddings(args.n1, args.n2, args.modalities, args.modality_dim, args.seed)
        if args.modalities
        else random_embeddings(args.n1, args.n2, args.dim, args.seed)
    )
    setup_s = time.perf_counter() - t0
    rss_before = rss_mb()
    print(f"embeddings ready in {setup_s:.1f} s, RSS {rss_before:.0f} MiB", flush=True)

    setup_peak = peak_rss_mb()
    reset_peak_rss()  # from here on the high-water mark is suggest()'s own
    t1 = time.perf_counter()
    df = suggest(emb, top_k=args.top_k, csls_k=args.csls_k, chunk_size=args.chunk_size,
                 retrieval=args.retrieval, nprobe=args.nprobe)  # fmt: skip
    suggest_s = time.perf_counter() - t1
    suggest_peak = peak_rss_mb()

    record = {
        "command": command,
        "n1": args.n1,
        "n2": args.n2,
        "dim": int(emb.dim),
        "modalities": len(emb.modalities),
        "modality_dim": args.modality_dim if emb.modalities else None,
        "retrieval": args.retrieval,
        "nprobe": args.nprobe if args.retrieval != "exact" else None,
        "rank1_is_copy": _rank1_is_copy(df, args.n1) if emb.modalities else None,
        "top_k": args.top_k,
        "csls_k": args.csls_k,
        "chunk_size": args.chunk_size,
        "torch_threads": args.threads,
        "rows": len(df),
        "suggest_seconds": round(suggest_s, 1),
        "setup_seconds": round(setup_s, 1),
        "rss_before_suggest_mb": round(rss_before, 1),
        "peak_rss_during_suggest_mb": round(suggest_peak, 1),
        "process_peak_rss_mb": round(max(setup_peak, suggest_peak), 1),
        "dense_score_matrix_would_need_mb": round(args.n1 * args.n2 * 4 / 2**20, 1),
        "one_to_one_pairs": int(df["one_to_one"].sum()),
        "mutual_nn_pairs": int(df["mutual_nn"].sum()),
        "env": environment_stamp(Path(__file__).resolve().parents[1]),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(record, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text(_markdown(record))
    print(json.dumps(record, indent=2), flush=True)
    return 0


def _rank1_is_copy(df, n1: int) -> float:
    """Share of sources whose rank-1 target is their noisy copy (a sanity figure for the search)."""
    top = df[df["rank"] == 1]
    return round(float((top["target"].to_numpy() % n1 == top["source"].to_numpy()).mean()), 4)


def _markdown(r: dict) -> str:
    return (
        f"# Candidate generation memory: {r['n1']:,} x {r['n2']:,} entities\n\n"
        f"`{r['command']}`\n\n"
        f"Random L2-normalised {r['dim']}-d embeddings"
        + (f" ({r['modalities']} modality spaces of {r['modality_dim']}, with fusion weights)" if r.get("modalities") else "")
        + f", retrieval {r.get('retrieval', 'exact')}" + (f" (nprobe {r['nprobe']})" if r.get("nprobe") else "")
        + f", top-{r['top_k']}, CSLS k={r['csls_k']}, "
        f"chunk {r['chunk_size']} rows, {r['torch_threads']} torch threads, {r['env']['machine']['cpu_count']} CPUs.\n\n"
        "| measure | value |\n|---|---|\n"
        f"| suggest() wall time | {r['suggest_seconds']} s |\n"
        f"| RSS before suggest() (embeddings, libraries) | {r['rss_before_suggest_mb']} MiB |\n"
        f"| peak RSS during suggest() (high-water mark restarted before it) | {r['peak_rss_during_suggest_mb']} MiB |\n"
        f"| process peak RSS (ru_maxrss) | {r['process_peak_rss_mb']} MiB |\n"
        f"| a dense score matrix would need | {r['dense_score_matrix_would_need_mb']} MiB |\n"
        f"| candidate rows | {r['rows']:,} |\n"
        f"| one-to-one / mutual-NN pairs | {r['one_to_one_pairs']:,} / {r['mutual_nn_pairs']:,} |\n"
        + (f"| rank-1 target is the source's noisy copy | {r['rank1_is_copy']:.4f} |\n" if r.get("rank1_is_copy") is not None else "")
        + "\n"
        f"{environment_line(r['env'])}\n"
    )


if __name__ == "__main__":
    sys.exit(main())
