"""The ``evaluate`` and ``suggest`` commands on a run trained (one short epoch) on the bundled sample."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from mimea_core import runs
from mimea_core.cli import build_parser, main
from mimea_core.config import MIMEAConfig
from mimea_core.data import load_pair, make_split
from mimea_core.training import train


def _flatten(d: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in d.items():
        out.update(_flatten(v, f"{prefix}{k}/") if isinstance(v, dict) else {prefix + k: v})
    return out


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, sample_data_dir):
    path = sample_data_dir / "fb15k-db15k-small"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    pair = load_pair(path)
    split = make_split(pair, seed_ratio=0.2, seed=0)
    config = MIMEAConfig(dim=32, graph_heads=2, fusion_heads=2, epochs=1, eval_every=1, num_threads=2)
    out = tmp_path_factory.mktemp("runs") / "sample"
    result = train(pair, config, split=split, out_dir=out)
    return out, pair, result


def test_evaluate_json_reproduces_the_metrics_written_by_training(trained_run, capsys):
    run_dir, _, result = trained_run
    assert main(["evaluate", str(run_dir), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    for key in ("standard", "open", "one_to_one", "detail"):
        got, want = _flatten(printed[key]), _flatten(result.metrics.to_dict()[key])
        assert got.keys() == want.keys() and got == pytest.approx(want, abs=1e-9), key
    assert printed["test_links"] == len(result.split.test) and printed["csls_k"] == 3


def test_evaluate_with_sinkhorn_decoding(trained_run, capsys):
    run_dir, _, result = trained_run
    assert main(["evaluate", str(run_dir), "--json", "--decoding", "sinkhorn"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["decoding"] == "sinkhorn"
    assert printed["standard"] == printed["detail"]["standard"]["l2r"]["sinkhorn"]
    assert printed["detail"]["standard"]["l2r"]["csls"] == pytest.approx(result.metrics.standard)
    assert main(["evaluate", str(run_dir), "--decoding", "sinkhorn"]) == 0
    assert "KG1->KG2, Sinkhorn" in capsys.readouterr().out


def test_evaluate_prints_headline_and_detail_tables(trained_run, capsys):
    run_dir, _, result = trained_run
    assert main(["evaluate", str(run_dir), "--csls-k", "5"]) == 0
    text = capsys.readouterr().out
    for label in ("standard", "open", "one-to-one", "KG1->KG2", "KG2->KG1", "cosine", "csls", "CSLS k=5"):
        assert label in text
    # the cosine rows do not depend on k: same figures as the run's own metrics
    cos = result.metrics.detail["standard"]["r2l"]["cosine"]
    assert f"{cos['hits@1']:.4f}  {cos['hits@10']:.4f}  {cos['mrr']:.4f}" in text


def test_evaluate_refuses_missing_and_half_written_runs(trained_run, tmp_path, capsys):
    run_dir, _, _ = trained_run
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    assert "no such run directory" in capsys.readouterr().err
    half = tmp_path / "half"
    shutil.copytree(run_dir, half)
    (half / runs.MARKER).unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "mimea_core", "evaluate", str(half)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "not a finished run" in proc.stderr


def test_suggest_writes_named_candidates_without_seeds(trained_run, tmp_path, capsys):
    run_dir, pair, result = trained_run
    out = tmp_path / "cands.csv"
    assert main(["suggest", str(run_dir), "--top-k", "3", "--out", str(out)]) == 0
    assert "candidates for" in capsys.readouterr().out
    df = pd.read_csv(out)
    seeds = np.concatenate([result.split.train, result.split.valid])
    expected_sources = np.setdiff1d(np.arange(pair.kg1.num_entities), seeds[:, 0])
    assert sorted(df["source"].unique()) == expected_sources.tolist()
    assert not df["target"].isin(seeds[:, 1]).any()
    assert (df.groupby("source").size() == 3).all()
    assert df["source_entity"].tolist() == [pair.kg1.entities[i] for i in df["source"]]
    assert df["target_name"].tolist() == [pair.kg2.names[i] for i in df["target"]]
    for col in ("rank", "score", "margin", "mutual_nn", "one_to_one", "sim_graph", "w1_graph", "wvar2_graph"):
        assert col in df.columns


def test_suggest_sources_by_identifier_or_name_and_include_seeds(trained_run, tmp_path):
    run_dir, pair, result = trained_run
    seed_source = int(result.split.train[0, 0])
    other = int(result.split.test[0, 0])
    names = pair.kg1.names
    unique_name = next(
        i for i in range(len(names)) if names.count(names[i]) == 1 and i not in (seed_source, other)
    )
    out = tmp_path / "some.csv"
    args = ["suggest", str(run_dir), "--top-k", "2", "--out", str(out), "--include-seeds", "--sources",
            pair.kg1.entities[seed_source], names[unique_name], pair.kg1.entities[other]]  # fmt: skip
    assert main(args) == 0
    df = pd.read_csv(out)
    assert df["source"].unique().tolist() == [seed_source, unique_name, other]


def test_suggest_user_errors_are_one_line(trained_run, tmp_path, capsys):
    run_dir, _, _ = trained_run
    assert (
        main(["suggest", str(run_dir), "--out", str(tmp_path / "x.csv"), "--sources", "no such entity"]) == 2
    )
    assert "--sources" in capsys.readouterr().err
    assert main(["suggest", str(run_dir), "--out", str(tmp_path / "missing" / "x.csv")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["suggest", str(run_dir), "--out", str(tmp_path / "x.csv"), "--top-k", "0"]) == 2
    assert main(["suggest", str(run_dir), "--out", str(tmp_path / "x.csv"), "--nprobe", "0"]) == 2
    assert "--nprobe" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_suggest_with_faiss_finds_the_exact_candidates_on_a_small_run(trained_run, tmp_path):
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    run_dir, _, _ = trained_run
    frames = {}
    for method in ("exact", "faiss-sq8"):
        out = tmp_path / f"{method}.csv"
        assert main(["suggest", str(run_dir), "--top-k", "3", "--out", str(out), "--retrieval", method]) == 0
        frames[method] = pd.read_csv(out)
    exact, sq8 = frames["exact"], frames["faiss-sq8"]
    assert exact["source"].tolist() == sq8["source"].tolist()
    assert (exact["target"] == sq8["target"]).mean() > 0.95  # a small run: every cell probed or nearly


@pytest.mark.parametrize("command", ["evaluate", "suggest"])
def test_help_documents_every_flag(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    text = sub.format_help()
    for action in sub._actions:
        for option in action.option_strings:
            assert option in text
        if action.dest != "help":
            assert action.help, f"{command} {action.dest} has no help"
