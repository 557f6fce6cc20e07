"""The benchmark harness: grid enumeration, resume from finished runs, tables and plots.

Training itself is exercised by the model tests; here finished run folders are laid out by hand so
that the resume logic is tested without training.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from mimea_core import runs
from mimea_core.benchmarking.grid import (
    ABLATIONS,
    BUDGET_EPOCHS,
    GRIDS,
    LOW_SEED_BUDGET_EPOCHS,
    GridSpec,
)
from mimea_core.benchmarking.records import load_records
from mimea_core.benchmarking.report import ablation_plot, hits_plot, markdown_table, summarise, summary_table
from mimea_core.benchmarking.runner import BenchOptions, command_stamp, run_grid, train_command
from mimea_core.cli import main
from mimea_core.errors import ConfigError, MimeaError


def _metrics(h1: float, ratio: float) -> dict:
    block = {"hits@1": h1, "hits@10": min(1.0, h1 + 0.3), "mrr": h1 + 0.05}
    return {
        "dataset": "FB15K-DB15K",
        "seed_ratio": ratio,
        "split_seed": 0,
        "modalities": ["graph", "relation", "attribute"],
        "standard": block,
        "open": block,
        "one_to_one": {"hits@1": h1},
        "detail": {},
        "epochs": 3,
        "train_seconds": 12.5,
        "peak_rss_mb": 900.0,
        "device": "cpu",
    }


def test_main_grid_covers_both_pairs_and_six_ratios_on_three_seeds():
    cells = GRIDS["main"].cells()
    assert {c.dataset for c in cells} == {"FB15K-DB15K", "FB15K-YAGO15K"}
    assert sorted({c.seed_ratio for c in cells}) == [0.01, 0.05, 0.1, 0.2, 0.5, 0.8]
    assert {c.split_seed for c in cells} == {1, 2, 3}
    assert len({c.key for c in cells}) == len(cells) == 36


def test_budget_is_the_same_for_every_variant_and_larger_at_few_seeds():
    cells = GRIDS["ablations"].cells()
    by_cell: dict[tuple, set[int]] = {}
    for c in cells:
        by_cell.setdefault((c.dataset, c.seed_ratio), set()).add(c.epochs)
    assert all(len(budgets) == 1 for budgets in by_cell.values())  # equal compute per variant
    assert by_cell[("FB15K-DB15K", 0.05)] == {LOW_SEED_BUDGET_EPOCHS}
    assert by_cell[("FB15K-DB15K", 0.2)] == {BUDGET_EPOCHS}
    assert all(f"_e{c.epochs}" in c.run_name for c in cells)  # a run folder is never reused across budgets
    low = next(c for c in cells if c.seed_ratio == 0.05)
    cmd = train_command(low, BenchOptions(out_dir=Path("o"), runs_dir=Path("r")))
    assert cmd[cmd.index("--epochs") + 1] == str(LOW_SEED_BUDGET_EPOCHS)
    assert f"patience={LOW_SEED_BUDGET_EPOCHS}" in cmd
    forced = train_command(low, BenchOptions(out_dir=Path("o"), runs_dir=Path("r"), epochs=3))
    assert forced[forced.index("--epochs") + 1] == "3" and "_e3" in forced[forced.index("--out") + 1]


def test_ablation_grid_cells_seeds_and_variants():
    cells = GRIDS["ablations"].cells()
    assert {(c.dataset, c.seed_ratio) for c in cells} == {
        ("FB15K-DB15K", 0.2), ("FB15K-DB15K", 0.05), ("FB15K-YAGO15K", 0.2),
    }  # fmt: skip
    assert {c.variant.name for c in cells} == {
        "full", "no_ot", "uniform_fusion", "attention_fusion", "no_modal_contrastive", "with_cross_modal",
        "no_pseudo_seeding", "stable_pseudo", "value_anchors", "open_validation", "last_epoch", "sinkhorn_decoding",
        "edge_attention",
    }  # fmt: skip
    assert len(cells) == 3 * len(ABLATIONS) * 3
    dev = GRIDS["dev"]
    assert dev.development and {c.split_seed for c in dev.cells()} == {100}
    assert not {c.split_seed for g in ("main", "ablations", "modalities") for c in GRIDS[g].cells()} & {100}


def test_ablation_variants_each_change_the_train_command_at_equal_budget(tmp_path):
    options = BenchOptions(out_dir=tmp_path, runs_dir=tmp_path / "runs", epochs=7)
    cells = [c for c in GRIDS["ablations"].cells() if c.seed_ratio == 0.2 and c.split_seed == 1]
    commands = {c.variant.name: tuple(train_command(c, options)) for c in cells if c.dataset == "FB15K-DB15K"}
    assert len(set(commands.values())) == len(ABLATIONS)
    assert "--no-ot" in commands["no_ot"] and "--cross-modal" in commands["with_cross_modal"]
    for cmd in commands.values():  # the same fixed epoch budget, early stopping off, no time limit
        assert cmd[cmd.index("--epochs") + 1] == "7" and "patience=7" in cmd and "--time-budget" not in cmd
    modal = {c.variant.name: train_command(c, options) for c in GRIDS["modalities"].cells()}
    assert "graph,relation,attribute,value,name" in modal["with_names"]
    assert modal["structure_only"][modal["structure_only"].index("--modalities") + 1] == "graph,relation"
    dev = {c.variant.name for c in GRIDS["dev"].cells()}
    assert {v.name for v in ABLATIONS} < dev and {"structure_only", "without_value", "with_names"} <= dev


def test_restricting_to_unknown_names_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown variant"):
        GRIDS["ablations"].restricted(variants=("nope",))
    with pytest.raises(ConfigError, match="unknown dataset"):
        GridSpec("x", ("NOPE",), (0.2,)).cells()


def test_run_grid_resumes_from_finished_runs_and_writes_table(tmp_path):
    grid = GridSpec("t", ("FB15K-DB15K",), (0.2, 0.5), split_seeds=(0,))
    options = BenchOptions(out_dir=tmp_path / "results", runs_dir=tmp_path / "runs")
    for cell, h1 in zip(grid.cells(), (0.4, 0.6), strict=True):
        run_dir = options.runs_dir / cell.run_name
        run_dir.mkdir(parents=True)
        (run_dir / runs.METRICS).write_text(json.dumps(_metrics(h1, cell.seed_ratio)))
        (options.runs_dir / f"{cell.run_name}.command").write_text(command_stamp(train_command(cell, options)))
    messages: list[str] = []
    path = run_grid(grid, options, log=messages.append)
    records = load_records(path)
    assert [r["standard"]["hits@1"] for r in records] == [0.4, 0.6]
    assert all("-m mimea_core train" in r["command"] and "--seed-ratio" in r["command"] for r in records)
    assert all("commit" in r and "versions" in r and "date" in r for r in records)
    table = path.with_suffix(".md").read_text()
    assert "+0.033 (vs 0.367)" in table  # 0.4 against the same-files MEAformer figure at 20%
    assert [r["budget_epochs"] for r in records] == [c.epochs for c in grid.cells()] == [BUDGET_EPOCHS] * 2
    # A second call finds every cell done and runs nothing.
    messages.clear()
    run_grid(grid, options, log=messages.append)
    assert "2 already done, 0 to run" in messages[0]


def test_failed_cell_raises_and_keeps_earlier_records(tmp_path):
    grid = GridSpec("t", ("X",), (0.2,), dataset_paths={"X": str(tmp_path / "missing-folder")})
    options = BenchOptions(out_dir=tmp_path / "results", runs_dir=tmp_path / "runs")
    with pytest.raises(MimeaError, match="failed"):
        run_grid(grid, options, log=lambda _: None)


def test_report_only_and_plot(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    records = [
        dict(_metrics(0.4, 0.2), variant="full", grid_key="a"),
        dict(_metrics(0.6, 0.5), variant="full", grid_key="b"),
    ]
    (out / "main.json").write_text(json.dumps({"grid": "main", "records": records}))
    assert main(["bench", "--report-only", "--out", str(out)]) == 0
    assert (out / "main_hits1.html").exists()
    fig = hits_plot(records)
    ours = [t for t in fig.data if t.name.startswith("MIMEA")][0]
    assert list(ours.y) == [0.4, 0.6]
    assert "| FB15K-DB15K | 20% | full | 0 | 0.400 |" in markdown_table(records)


def test_summary_gives_mean_sd_over_seeds_and_paired_deltas():
    records = [
        dict(_metrics(h1, 0.2), variant=variant, split_seed=seed, grid_key=f"{variant}{seed}")
        for variant, values in (("full", (0.5, 0.6, 0.7)), ("no_ot", (0.45, 0.58, 0.62)))
        for seed, h1 in zip((1, 2, 3), values, strict=True)
    ]
    rows = {r["variant"]: r for r in summarise(records)}
    mean, sd = rows["full"]["H@1"]
    assert mean == pytest.approx(0.6) and sd == pytest.approx(0.1)
    delta, delta_sd = rows["no_ot"]["delta_hits@1"]
    assert delta == pytest.approx(-0.05) and delta_sd == pytest.approx(0.03)
    table = summary_table(records)
    assert "0.600 ± 0.100" in table and "-0.050 ± 0.030" in table
    fig = ablation_plot(records)
    assert list(fig.data[0].error_y.array) == pytest.approx([0.1, rows["no_ot"]["H@1"][1]])


def test_corrupt_result_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "main.json"
    bad.write_text("{not json")
    with pytest.raises(MimeaError, match="main.json"):
        load_records(bad)


def test_merge_adds_other_machines_records_once(tmp_path, capsys):
    out = tmp_path / "results"
    out.mkdir()
    mine = [dict(_metrics(0.4, 0.2), variant="full", grid_key="FB15K-DB15K|0.2|full|0")]
    other = [
        dict(_metrics(0.9, 0.2), variant="full", grid_key="FB15K-DB15K|0.2|full|0"),  # same cell: first stands
        dict(_metrics(0.7, 0.8), variant="full", grid_key="FB15K-DB15K|0.8|full|0", device="cuda"),
    ]
    (out / "main.json").write_text(json.dumps({"grid": "main", "records": mine}))
    (tmp_path / "gpu.json").write_text(json.dumps({"grid": "main", "records": other}))
    assert main(["bench", "--report-only", "--out", str(out), "--merge", str(tmp_path / "gpu.json")]) == 0
    assert "merged 1 new record(s)" in capsys.readouterr().out
    records = load_records(out / "main.json")
    assert [(r["seed_ratio"], r["standard"]["hits@1"]) for r in records] == [(0.2, 0.4), (0.8, 0.7)]
    assert "| cuda |" in (out / "main.md").read_text()


def test_a_finished_run_folder_made_by_another_command_is_not_reused(tmp_path, monkeypatch):
    """Defaults change (cross-modal attention did): a folder from an older command must be retrained,
    not recorded under the new configuration."""
    from mimea_core.benchmarking import runner

    grid = GridSpec("t", ("FB15K-DB15K",), (0.2,), split_seeds=(0,))
    options = BenchOptions(out_dir=tmp_path / "results", runs_dir=tmp_path / "runs")
    cell = grid.cells()[0]
    run_dir = options.runs_dir / cell.run_name
    run_dir.mkdir(parents=True)
    (run_dir / runs.METRICS).write_text(json.dumps(_metrics(0.4, 0.2)))
    (options.runs_dir / f"{cell.run_name}.command").write_text("python -m mimea_core train OLD")
    calls = []
    real_run = runner.subprocess.run

    def fake_run(cmd, **kwargs):
        if "train" not in cmd:  # git, for the environment stamp
            return real_run(cmd, **kwargs)
        calls.append(cmd)
        (run_dir / runs.METRICS).write_text(json.dumps(_metrics(0.7, 0.2)))
        return type("Done", (), {"returncode": 0})()

    monkeypatch.setattr(runner.subprocess, "run", fake_run)
    record = runner.run_cell(cell, options, log=lambda _: None)
    assert len(calls) == 1 and record["standard"]["hits@1"] == 0.7
    assert (options.runs_dir / f"{cell.run_name}.command").read_text() == runner.command_stamp(calls[0])
    runner.run_cell(cell, options, log=lambda _: None)  # now the stamp matches: reused, not retrained
    assert len(calls) == 1


def test_a_command_stamp_changes_when_the_defaults_change(monkeypatch):
    """The same flag-free command under other defaults (the graph encoder became rgat) must not
    match a stamp written before: its folder was trained with the old configuration."""
    from mimea_core.benchmarking import runner

    cmd = ["python", "-m", "mimea_core", "train", "x.toml", "--no-ot"]
    before = command_stamp(cmd)
    assert command_stamp(cmd) == before and before.startswith(shlex.join(cmd))
    real = runner.MIMEAConfig
    assert real().graph_encoder == "rgat"
    monkeypatch.setattr(runner, "MIMEAConfig", lambda: real().replace(graph_encoder="gat"))
    assert command_stamp(cmd) != before
