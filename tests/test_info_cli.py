"""``python -m mimea_core info``: counts on the sample data, one-line errors without a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from tiny import write

from mimea_core.cli import main


def _info(*args, capsys):
    code = main(["info", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_info_prints_counts_for_sample(sample_data_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path))
    code, out, _ = _info(sample_data_dir / "fb15k-db15k-small", capsys=capsys)
    assert code == 0
    for text in (
        "FB15K",
        "DB15K",
        "entities",
        "relation triples",
        "duplicates dropped",
        "attribute triples",
        "modality coverage",
        "graph",
        "attribute",
        "visual",
        "images",
        "links: 2,502",
    ):
        assert text in out
    assert "967 duplicate relation triples of DB15K dropped" in out


def test_info_json_matches_loaded_pair(sample_data_dir, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path))
    code, out, _ = _info(sample_data_dir / "fb15k-yago15k-small", "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["kg2"]["name"] == "YAGO15K"
    assert summary["links"]["total"] == 2_502
    cov = summary["kg2"]["coverage"]
    assert 0 < cov["graph"] < 1 and cov["visual"] == 0.0 and cov["name"] == 1.0
    assert any("unknown parts" in w for w in summary["warnings"])



def _tiny_tsv_pair(tmp_path, links: str):
    """A two-KG pair in our TSV layout (kg1: a, b, c; kg2: x, y) with the given links.tsv text."""
    files = {"kg1/triples.tsv": "a\tr\tb\nc\tr\tb\n", "kg2/triples.tsv": "x\ts\ty\n"}
    return write(tmp_path / "pair", files, **{"links.tsv": links})


def test_info_strict_refuses_one_to_many(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path / "cache"))
    pair = _tiny_tsv_pair(tmp_path, links="a\tx\nc\tx\nb\ty\n")
    code, out, _ = _info(pair, capsys=capsys)
    assert code == 0 and "one-to-many" in out and "1 kg2 entity is linked to several kg1 entities" in out
    code, out, err = _info(pair, "--strict", capsys=capsys)
    assert code != 0
    assert err.startswith("error: ") and err.count("\n") == 1
    assert (
        "links.tsv" in err
        and "refused by --strict" in err
        and "'x'" not in err
        and "x (2 kg1 entities)" in err
    )


@pytest.mark.parametrize("make", ["missing", "empty_folder", "garbage"])
def test_info_errors_are_one_line_without_traceback(tmp_path, make):
    target = tmp_path / "data"
    if make == "empty_folder":
        target.mkdir()
    elif make == "garbage":
        (target / "kg1").mkdir(parents=True)
        (target / "kg2").mkdir()
        (target / "kg1" / "triples.tsv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
        (target / "kg2" / "triples.tsv").write_text("x\ts\ty\n")
        (target / "links.tsv").write_text("a\tx\n")
    proc = subprocess.run(
        [sys.executable, "-m", "mimea_core", "info", str(target)],
        capture_output=True,
        text=True,
        env={"MIMEA_CACHE": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and str(target) in lines[0]
    expected = {
        "missing": "not found",
        "empty_folder": "no recognisable pair format",
        "garbage": "binary content",
    }[make]
    assert expected in lines[0]


def test_info_with_visual_features(tmp_path, capsys, monkeypatch):
    import numpy as np

    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path / "cache"))
    pair = _tiny_tsv_pair(tmp_path, links="a\tx\nb\ty\n")
    np.save(tmp_path / "v1.npy", np.ones((2, 6), dtype=np.float32))
    (tmp_path / "v1_ids.txt").write_text("a\nc\n")
    code, out, _ = _info(pair, "--visual", tmp_path / "v1.npy", "-", capsys=capsys)
    assert code == 0
    assert "features kg1 visual: dim 6, coverage 66.7%" in out
    code, _, err = _info(pair, "--visual", tmp_path / "v1.pkl", "-", capsys=capsys)
    assert code != 0 and "v1.pkl" in err
