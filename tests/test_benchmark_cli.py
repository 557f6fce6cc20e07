"""`python -m mimea_core bench` end to end on the bundled sample pair (two epochs, one cell)."""

from __future__ import annotations

import json

from mimea_core.cli import main


def test_bench_runs_a_real_cell_and_resumes(tmp_path, sample_data_dir, capsys):
    args = [
        "bench", "--grid", "quick",
        "--dataset-path", f"SAMPLE={sample_data_dir / 'fb15k-db15k-small'}",
        "--datasets", "SAMPLE",
        "--out", str(tmp_path / "results"),
        "--runs-dir", str(tmp_path / "runs"),
        "--result-name", "sample",
        "--device", "cpu",
        "--epochs", "2",
        "--train-flag=--quiet",
    ]  # fmt: skip
    assert main(args) == 0
    data = json.loads((tmp_path / "results" / "sample.json").read_text())
    [record] = data["records"]
    assert record["dataset_path"].endswith("fb15k-db15k-small")
    assert 0.0 <= record["standard"]["hits@1"] <= 1.0
    assert record["epochs"] <= 2
    assert record["peak_rss_mb"] > 0
    assert "--epochs 2" in record["command"] and "patience=2" in record["command"]
    assert record["budget_epochs"] == 2 and record["split_seed"] == 1 and record["wall_seconds"] > 0
    assert record["open_candidates"]["r2l"]["distractors"] >= 0
    table = (tmp_path / "results" / "sample.md").read_text()
    assert "| SAMPLE |" in table or "| FB15K-DB15K |" in table
    # Rerunning skips the finished cell instead of training again.
    capsys.readouterr()
    assert main(args) == 0
    assert "1 already done, 0 to run" in capsys.readouterr().out
