"""benchmarks/scale.py: config fields set per run reach the model and the report (``--set dim=64``)."""

import numpy as np
import pytest

from mimea_core.commands.train import parse_overrides
from mimea_core.errors import ConfigError
from scripts import benchmark_script


def test_parse_overrides_reads_json_values_and_rejects_bad_items():
    assert parse_overrides(["dim=64", "lr=0.001", "fusion=uniform"]) == {"dim": 64, "lr": 0.001, "fusion": "uniform"}
    with pytest.raises(ConfigError, match="expected FIELD=VALUE"):
        parse_overrides(["dim"])
    with pytest.raises(ConfigError, match="expected FIELD=VALUE"):
        parse_overrides(["=3"])


def test_scale_size_runs_with_the_overridden_dimension(tmp_path):
    scale = benchmark_script("scale")
    record = scale.measure(300, epochs=1, seed=1, device="cpu", test_sample=0, retrieval="exact",
                           graph_fanout=5, overrides={"dim": 16})  # fmt: skip
    assert record["overrides"] == {"dim": 16}
    assert record["joint_dim"] == 16 * len(record["modalities"])  # the model was built with it
    assert record["candidate_rows"] > 0 and 0.0 <= record["hits@1"] <= 1.0
    assert scale._settings(record) == "dim=16"
    assert scale._settings({"n": 1}) == "defaults"
    path = tmp_path / "scale.json"
    scale.write_report(path, {"records": [record], "command": "test", "machine": "m", "commit": "c", "date": "d"})
    row = next(line for line in path.with_suffix(".md").read_text().splitlines() if line.startswith("| 300 "))
    assert "| dim=16 |" in row and "| fanout 5 |" in row


def test_scale_size_without_test_metrics_times_embed_and_the_candidates_own_peak(tmp_path):
    scale = benchmark_script("scale")
    record = scale.measure(300, epochs=1, seed=1, device="cpu", test_sample=100, retrieval="exact",
                           graph_fanout=5, overrides={"dim": 16}, evaluate=False)  # fmt: skip
    assert "embed" in record["seconds"] and "evaluate" not in record["seconds"]
    assert record["test_links"] == 100 and 0.0 <= record["hits@1"] <= 1.0
    assert record["phase_peaks"] and set(record["peak_rss_mb"]) >= {"generate", "inputs", "embed", "candidates"}
    own = record["peak_rss_mb"]["candidates"]
    assert own > 0
    path = tmp_path / "scale.json"

    def own_peak_cell(rec: dict) -> str:
        scale.write_report(path, {"records": [rec], "command": "test", "machine": "m", "commit": "c", "date": "d"})
        lines = path.with_suffix(".md").read_text().splitlines()
        header = [c.strip() for c in next(x for x in lines if x.startswith("| N per KG")).split("|")]
        row = [c.strip() for c in next(x for x in lines if x.startswith("| 300 ")).split("|")]
        assert row[header.index("evaluate s")] == "n/a"
        return row[header.index("candidates' own peak MB (+ added to what was held)")]

    held = record["held_at_start_mb"]["candidates"]
    assert 0 < held <= own + 1  # the mark restarts at the RSS the phase inherits
    assert own_peak_cell(record) == f"{own:,.0f} (+{own - held:,.0f})"
    assert own_peak_cell({**record, "held_at_start_mb": {}}) == f"{own:,.0f}"
    assert own_peak_cell({**record, "phase_peaks": False}) == "n/a"  # peaks were the running peak then


def test_index_recall_is_one_for_an_exhaustive_faiss_search_and_lower_for_a_narrow_one():
    pytest.importorskip("faiss", reason="faiss-cpu is an optional extra (pip install faiss-cpu)")
    from mimea_core.embeddings import Embeddings

    scale = benchmark_script("scale")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 16)).astype(np.float32)  # no clusters: IVF at nprobe 32 misses some
    emb = Embeddings.from_joint(x, x + 0.1 * rng.normal(size=x.shape).astype(np.float32))
    seeds = np.stack([np.arange(100), np.arange(100)], axis=1)
    recall = scale.index_recall(emb, seeds, sample=200, seed=0)
    assert 0.3 < recall < 1.0, recall
    small = Embeddings.from_joint(x[:300], x[:300])  # fewer than 39 rows per cell at nlist 7: few cells, all probed
    assert scale.index_recall(small, seeds, sample=100, seed=0) == 1.0
