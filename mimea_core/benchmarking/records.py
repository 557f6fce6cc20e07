"""Result files of a grid: ``<out>/<grid>.json`` (records) and ``<out>/<grid>.md`` (table).

Writes are atomic (temp file + rename), so a benchmark killed at any moment leaves the previous
results intact and a rerun resumes with the cells still missing.
"""

from __future__ import annotations

import fcntl
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from mimea_core.benchmarking.report import write_markdown
from mimea_core.errors import MimeaError
from mimea_core.fileio import atomic_write_text


def load_records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise MimeaError(f"{path}: not a valid benchmark result file ({err})") from err
    if not isinstance(data, dict) or not isinstance(data.get("records"), list):
        raise MimeaError(f"{path}: expected a JSON object with a 'records' list")
    return data["records"]


def save_records(path: Path, grid_name: str, records: list[dict[str, Any]]) -> None:
    payload = {"grid": grid_name, "records": records}
    atomic_write_text(path, json.dumps(payload, indent=1, sort_keys=False) + "\n")


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (several benchmark processes may share a grid)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def merge_records(path: Path, grid_name: str, new: list[dict[str, Any]]) -> int:
    """Add ``new`` records to the result file under a lock; a record whose ``grid_key`` is
    already there replaces nothing (the first result of a cell stands). Rewrites the table.
    Returns how many records were added."""
    with locked(path):
        records = load_records(path)
        known = {r.get("grid_key") for r in records}
        added = [r for r in new if r.get("grid_key") not in known]
        records.extend(added)
        save_records(path, grid_name, records)
        write_markdown(path.with_suffix(".md"), grid_name, records)
    return len(added)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def load_average() -> list[float] | None:
    """The 1/5/15-minute load averages, rounded (None where the platform has none)."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def environment_line(env: dict[str, Any]) -> str:
    """One markdown line saying where and when a benchmark ran (from :func:`environment_stamp`)."""
    machine = env.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v)
    return (
        f"Commit {env.get('commit')}, {env.get('date')}; {machine.get('platform')} "
        f"({machine.get('cpu_count')} CPUs), load average {machine.get('load_average')}; {versions}."
    )


def environment_stamp(repo: Path) -> dict[str, Any]:
    """Date, machine, commit and library versions, stored with every record."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                cwd=repo,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            # 1/5/15-minute load averages when the record is made (after the cell): timings taken
            # on a shared machine are upper bounds, and this says how shared it was.
            "load_average": load_average(),
        },
        "commit": commit + ("-dirty" if dirty else ""),
        "versions": {
            "python": sys.version.split()[0],
            **{p: _version(p) for p in ("torch", "numpy", "pot", "mimea-workbench")},
        },
    }
