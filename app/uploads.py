"""Uploaded pairs: checked, size-limited, written as our TSV layout, then read by ``load_pair``.

Uploads are untrusted: only the TSV layout's text files and ``.npy`` feature matrices are accepted
(never pickles), each at most ``MAX_UPLOAD_MB``; a ``.npy`` must load with ``allow_pickle=False``.
Everything else is parsed by the same validated readers as local data.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from mimea_core.errors import DataFormatError

KG_FILES = (
    "triples.tsv",
    "attributes.tsv",
    "names.tsv",
    "images.tsv",
    "visual.npy",
    "visual_ids.txt",
    "NAME",
)
LINKS_FILE = "links.tsv"
UPLOAD_TYPES = ["tsv", "txt", "npy"]


def _check(name: str, data: bytes, allowed: tuple[str, ...], max_bytes: int) -> str:
    base = Path(name).name  # never a path from the client
    if base not in allowed:
        raise DataFormatError(base, None, f"unexpected file name; expected one of {', '.join(allowed)}")
    if len(data) > max_bytes:
        raise DataFormatError(
            base, None, f"{len(data) / 2**20:.1f} MB is over the upload limit of {max_bytes / 2**20:.0f} MB"
        )
    if not data:
        raise DataFormatError(base, None, "empty file")
    if base.endswith(".npy"):
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as err:  # ValueError for object arrays (pickles), anything for garbage
            raise DataFormatError(
                base, None, f"not a plain numeric .npy array (pickles are refused): {err}"
            ) from err
        if not np.issubdtype(array.dtype, np.number) or array.ndim != 2:
            raise DataFormatError(
                base, None, f"expected a 2-d numeric matrix, got {array.dtype} {array.shape}"
            )
    return base


def write_upload_pair(
    links: tuple[str, bytes] | None,
    kg1: list[tuple[str, bytes]],
    kg2: list[tuple[str, bytes]],
    root: Path,
    max_bytes: int,
) -> Path:
    """Check the uploaded files and write them as ``root/<content hash>/`` in our TSV layout."""
    if links is None:
        raise DataFormatError(
            LINKS_FILE, None, "the gold links file is required (kg1 entity <TAB> kg2 entity)"
        )
    checked = [(LINKS_FILE, _check(links[0], links[1], (LINKS_FILE, "links.txt"), max_bytes), links[1])]
    for folder, files in (("kg1", kg1), ("kg2", kg2)):
        names = [_check(n, d, KG_FILES, max_bytes) for n, d in files]
        if "triples.tsv" not in names:
            raise DataFormatError(f"{folder}/triples.tsv", None, "required file not uploaded")
        if len(set(names)) != len(names):
            raise DataFormatError(folder, None, "the same file name was uploaded twice")
        checked += [(f"{folder}/{n}", n, d) for n, (_, d) in zip(names, files, strict=True)]
    digest = hashlib.sha256()
    for rel, _, data in sorted(checked):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    target = root / digest.hexdigest()[:16]
    for rel, _, data in checked:
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return target
