"""Relabel a grid's records after a default changed, so that "full" always means the current default.

When a switch becomes the default (here: ``graph_encoder="rgat"``), the records made before the
change say something else than their names: the old "full" is now a variant (``--graph-encoder gat``)
and the variant that turned the switch on is now "full". This script, run once per result file:

- copies every record made before ``--until`` (with the old default) unchanged into ``--archive``,
  where their deltas keep their meaning (each variant against the old full);
- in the result file, renames the ``--became-full`` variant's records to ``full`` and the old ``full``
  records to ``--old-full-as`` (both equal-budget runs of the new and the old configuration), and
  drops the other old-default records (their reference is gone; they stay in the archive).

A relabelled record keeps what ran in ``command_as_run``; ``command`` gives the same configuration
under today's defaults; ``note`` says what was done. Idempotent: records already relabelled, or
made after ``--until``, are left alone (relabelled ones carry ``default_change``). The file is rewritten under the bench's lock.

Example (what was run on 2026-12-02)::

    python benchmarks/relabel_default.py benchmarks/results/ablations.json \\
        --until 2026-12-02T20:52:30+00:00 --became-full relation_attention \\
        --new-flags "--graph-encoder rgat" --old-full-as edge_attention --old-flags "--graph-encoder gat" \\
        --archive benchmarks/results/ablations-gat.json
"""

from __future__ import annotations

import argparse
import shlex
from datetime import datetime
from pathlib import Path
from typing import Any

from mimea_core.benchmarking.records import load_records, locked, save_records, write_markdown

NOTE = "relabelled on {day} when {what} became the default: {how}; 'command_as_run' is what ran"


def _without(command: str, flags: list[str]) -> str:
    words = shlex.split(command)
    for i in range(len(words) - len(flags) + 1):
        if words[i : i + len(flags)] == flags:
            return shlex.join(words[:i] + words[i + len(flags) :])
    return command


def _renamed(record: dict[str, Any], variant: str, command: str, how: str, what: str, day: str) -> dict[str, Any]:
    out = dict(record)
    dataset, ratio, _, seed = record["grid_key"].split("|")
    out["variant"] = variant
    out["grid_key"] = f"{dataset}|{ratio}|{variant}|{seed}"
    out.setdefault("command_as_run", record["command"])
    out["command"] = command
    note = NOTE.format(day=day, what=what, how=how)
    out["note"] = f"{record['note']}; then {note}" if record.get("note") else note
    out["default_change"] = what  # marks the record as done (the script is idempotent)
    return out


def relabel(
    records: list[dict[str, Any]], until: datetime, became_full: str, new_flags: list[str], old_full_as: str,
    old_flags: list[str], what: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(kept, archived)``: the result file's new records and the old-default records as they were."""
    day = until.date().isoformat()
    kept, archived = [], []
    for record in records:
        if record.get("default_change") == what:  # done by an earlier run of this script
            kept.append(record)
        elif record["variant"] == became_full:  # the new default, whenever it ran
            kept.append(_renamed(record, "full", _without(record["command"], new_flags),
                                 f"trained as variant {became_full!r}, the default now", what, day))  # fmt: skip
        elif datetime.fromisoformat(record["date"]) >= until:  # made under the new default
            kept.append(record)
        else:
            archived.append(record)
            if record["variant"] == "full":
                command = shlex.join([*shlex.split(record["command"]), *old_flags])
                how = f"trained as 'full' under the earlier default, now variant {old_full_as!r}"
                kept.append(_renamed(record, old_full_as, command, how, what, day))
    return kept, archived


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="a bench result JSON (its .md is rewritten)")
    parser.add_argument("--until", required=True, help="ISO time of the default change (records before it)")
    parser.add_argument("--became-full", required=True, help="the variant that is the default now")
    parser.add_argument("--new-flags", required=True, help="that variant's train flags (dropped from 'command')")
    parser.add_argument("--old-full-as", required=True, help="variant name of the earlier default")
    parser.add_argument("--old-flags", required=True, help="train flags that give the earlier default")
    parser.add_argument("--archive", type=Path, required=True, help="result JSON for the old-default records")
    parser.add_argument("--what", default="the switch", help="what changed, for the records' note")
    args = parser.parse_args(argv)
    until = datetime.fromisoformat(args.until)
    with locked(args.results):
        records = load_records(args.results)
        kept, archived = relabel(records, until, args.became_full, shlex.split(args.new_flags), args.old_full_as,
                                 shlex.split(args.old_flags), args.what)  # fmt: skip
        grid = args.results.stem
        if archived:
            with locked(args.archive):
                earlier = load_records(args.archive)
                known = {r["grid_key"] for r in earlier}
                merged = earlier + [r for r in archived if r["grid_key"] not in known]
                save_records(args.archive, f"{grid} (earlier default)", merged)
                write_markdown(args.archive.with_suffix(".md"), f"{grid} (earlier default)", merged)
        save_records(args.results, grid, kept)
        write_markdown(args.results.with_suffix(".md"), grid, kept)
    print(f"{args.results}: {len(kept)} records ({len(records)} before); {len(archived)} archived in {args.archive}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
