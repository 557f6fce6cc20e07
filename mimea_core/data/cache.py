"""On-disk cache of parsed pairs under ``$MIMEA_CACHE`` (default ``~/.cache/mimea``).

A pair is stored as one ``.npz`` (arrays plus the strings as a UTF-8 JSON blob, so it loads with
``allow_pickle=False``), named by a hash of the reader code, its options and the bytes of every
input file: editing any input file (or the readers) makes a new key. Writes are atomic (temp file + ``os.replace``), so a
killed process never leaves a half-written entry; an unreadable entry is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path

import numpy as np

from mimea_core.data.types import KnowledgeGraph, MMKGPair
from mimea_core.fileio import atomic_writer

CACHE_VERSION = "1"
log = logging.getLogger(__name__)


def _code_version() -> str:
    """Hash of the data layer's own source, so a changed reader never serves an old parse."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_dir() -> Path:
    return Path(os.environ.get("MIMEA_CACHE") or Path.home() / ".cache" / "mimea") / "pairs"


def fingerprint(files: list[Path], options: str) -> str:
    """Hash of ``options`` and the name and bytes of every file (order matters)."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{CACHE_VERSION}|{_code_version()}|{options}".encode())
    for path in files:
        digest.update(b"\0" + path.name.encode() + b"\0")
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()


def anchors(files: list[Path]) -> list[str]:
    """The paths a pair's warnings may name: its input files, then their folders (first seen order).

    The key hashes file *names* and bytes, so the same data in another folder hits the same entry;
    the stored warnings replace these paths by placeholders (:func:`_template`) and get the current
    load's paths back (:func:`_fill`), so a warning always names the files actually loaded.
    """
    names = [str(p) for p in files]
    for p in files:
        if str(p.parent) not in names:
            names.append(str(p.parent))
    return names


def _token(i: int) -> str:
    return f"\x00{i}\x00"


def _template(warnings: list[str], paths: list[str]) -> list[str]:
    order = sorted(range(len(paths)), key=lambda i: -len(paths[i]))  # longest first: files before folders
    out = []
    for w in warnings:
        for i in order:
            if paths[i] and paths[i] != ".":
                w = w.replace(paths[i], _token(i))
        out.append(w)
    return out


def _fill(warnings: list[str], paths: list[str]) -> list[str]:
    out = []
    for w in warnings:
        for i, p in enumerate(paths):
            w = w.replace(_token(i), p)
        out.append(w)
    return out


def _kg_meta(kg: KnowledgeGraph) -> dict:
    return {
        "name": kg.name,
        "entities": kg.entities,
        "names": kg.names,
        "relations": kg.relations,
        "attributes": kg.attributes,
        "attr_values": kg.attr_values,
        "images": [[int(k), v] for k, v in kg.images.items()],
        "dropped_duplicate_triples": kg.dropped_duplicate_triples,
        "dropped_duplicate_attributes": kg.dropped_duplicate_attributes,
    }


def save(pair: MMKGPair, key: str, paths: list[str] | None = None) -> None:
    """Store ``pair`` (without extra features) under ``key``; failures only log (the cache is optional).

    ``paths``: :func:`anchors` of the input files, replaced by placeholders in the stored warnings.
    """
    paths = paths or []
    meta = {
        "name": pair.name,
        "warnings": _template(pair.warnings, paths),
        "num_paths": len(paths),
        "kg1": _kg_meta(pair.kg1),
        "kg2": _kg_meta(pair.kg2),
    }
    arrays = {"links": pair.links, "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for side, kg in (("kg1", pair.kg1), ("kg2", pair.kg2)):
        arrays[f"{side}_triples"] = kg.triples
        arrays[f"{side}_attr_triples"] = kg.attr_triples
        arrays[f"{side}_attr_numeric"] = kg.attr_numeric
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_writer(folder / f"{key}.npz", "wb", fsync=False) as handle:
            np.savez(handle, **arrays)
    except OSError as err:
        log.debug("could not write the cache in %s: %s", folder, err)


def load(key: str, paths: list[str] | None = None) -> MMKGPair | None:
    """The pair stored under ``key`` with its warnings naming ``paths`` (the current load's
    :func:`anchors`), or None (a miss, an unreadable entry, or one whose paths do not line up)."""
    paths = paths or []
    path = cache_dir() / f"{key}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode())
            if meta.get("num_paths", 0) != len(paths):
                return None
            kgs = []
            for side in ("kg1", "kg2"):
                m = meta[side]
                kgs.append(
                    KnowledgeGraph(
                        name=m["name"],
                        entities=m["entities"],
                        names=m["names"],
                        relations=m["relations"],
                        triples=data[f"{side}_triples"],
                        attributes=m["attributes"],
                        attr_triples=data[f"{side}_attr_triples"],
                        attr_values=m["attr_values"],
                        attr_numeric=data[f"{side}_attr_numeric"],
                        images={int(k): v for k, v in m["images"]},
                        dropped_duplicate_triples=m["dropped_duplicate_triples"],
                        dropped_duplicate_attributes=m["dropped_duplicate_attributes"],
                    )
                )
            return MMKGPair(
                name=meta["name"], kg1=kgs[0], kg2=kgs[1], links=data["links"], warnings=_fill(meta["warnings"], paths)
            )
    except (OSError, EOFError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as err:
        log.debug("ignoring unreadable cache entry %s: %s", path, err)
        return None
