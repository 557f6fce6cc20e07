"""benchmarks/relabel_default.py: after a default changes, "full" names the new default and the
records made under the old one are archived as they were."""

from __future__ import annotations

import json

from scripts import benchmark_script


def _script():
    return benchmark_script("relabel_default")


def _record(variant: str, seed: int, date: str, h1: float, flags: str = "") -> dict:
    return {
        "dataset": "D", "seed_ratio": 0.2, "split_seed": seed, "variant": variant, "date": date,
        "grid_key": f"D|0.2|{variant}|{seed}", "standard": {"hits@1": h1, "hits@10": h1, "mrr": h1},
        "command": f"python -m mimea_core train d.toml --split-seed {seed} {flags}".strip(),
    }  # fmt: skip


def test_relabel_makes_the_new_default_full_and_archives_the_old_records(tmp_path):
    old, new = "2026-12-02T10:00:00+00:00", "2026-12-02T12:00:00+00:00"
    records = [
        _record("full", 1, old, 0.60),
        _record("no_ot", 1, old, 0.61, "--no-ot"),
        _record("relation_attention", 1, old, 0.70, "--graph-encoder rgat"),
        _record("relation_attention", 2, new, 0.71, "--graph-encoder rgat"),
        _record("no_ot", 2, new, 0.69, "--no-ot"),
    ]
    results = tmp_path / "grid.json"
    results.write_text(json.dumps({"grid": "grid", "records": records}))
    archive = tmp_path / "grid-old.json"
    argv = [str(results), "--until", "2026-12-02T11:00:00+00:00", "--became-full", "relation_attention",
            "--new-flags", "--graph-encoder rgat", "--old-full-as", "edge_attention",
            "--old-flags", "--graph-encoder gat", "--archive", str(archive), "--what", "rgat"]  # fmt: skip
    script = _script()
    assert script.main(argv) == 0
    kept = {r["grid_key"]: r for r in json.loads(results.read_text())["records"]}
    assert set(kept) == {"D|0.2|full|1", "D|0.2|full|2", "D|0.2|edge_attention|1", "D|0.2|no_ot|2"}
    assert kept["D|0.2|full|1"]["standard"]["hits@1"] == 0.70  # the rgat run is full now
    assert kept["D|0.2|full|1"]["command"].endswith("--split-seed 1")  # the flag is today's default
    assert kept["D|0.2|full|1"]["command_as_run"].endswith("--graph-encoder rgat")
    assert kept["D|0.2|edge_attention|1"]["command"].endswith("--graph-encoder gat")
    assert kept["D|0.2|edge_attention|1"]["standard"]["hits@1"] == 0.60
    archived = {r["grid_key"] for r in json.loads(archive.read_text())["records"]}
    assert archived == {"D|0.2|full|1", "D|0.2|no_ot|1"}  # the old default's table, unchanged names
    assert (tmp_path / "grid.md").is_file() and (tmp_path / "grid-old.md").is_file()
    before = results.read_text()
    assert script.main(argv) == 0  # idempotent
    assert results.read_text() == before
