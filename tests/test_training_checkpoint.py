"""Run directories: round trip, atomic replacement, refusal of unsafe or half-written runs."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core import runs as ck
from mimea_core.config import MIMEAConfig
from mimea_core.errors import ConfigError, RunError
from mimea_core.inference import ModalityOverride, embed
from mimea_core.runs import load_run
from mimea_core.training import ProgressEvent, train

DESIGN_KEYS = [
    "dataset", "seed_ratio", "split_seed", "modalities", "standard", "open", "one_to_one", "detail",
    "epochs", "train_seconds", "peak_rss_mb", "device",
]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pair = make_tiny_pair(n=50, visual="partial")
    split = tiny_split(pair)
    out = tmp_path_factory.mktemp("runs") / "tiny"
    events: list[ProgressEvent] = []
    result = train(pair, FAST.replace(epochs=3), split=split, out_dir=out, progress=events.append)
    return pair, split, result, events


def test_run_directory_contents_and_metrics_shape(trained):
    _, _, result, events = trained
    run = result.run_dir
    for name in (ck.WEIGHTS, ck.CONFIG, ck.VOCAB, ck.SPLIT, ck.METRICS, ck.HISTORY, ck.MARKER):
        assert (run / name).is_file(), name
    metrics = json.loads((run / ck.METRICS).read_text())
    assert list(metrics)[: len(DESIGN_KEYS)] == DESIGN_KEYS  # DESIGN.md's shape first, then additions
    assert list(metrics)[len(DESIGN_KEYS) :] == ["open_r2l", "open_candidates", "optimizer_steps"]
    assert metrics["modalities"] == ["graph", "relation", "attribute", "visual", "value"]
    assert set(metrics["standard"]) == {"hits@1", "hits@10", "mrr"}
    assert metrics["epochs"] == 3 and metrics["device"] == "cpu" and metrics["peak_rss_mb"] > 0
    history = [json.loads(x) for x in (run / ck.HISTORY).read_text().splitlines()]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    assert {e.epoch for e in events} >= {1, 2, 3} and any(e.valid_mrr is not None for e in events)
    assert not [p for p in run.parent.iterdir() if p.name.startswith(".tiny.")]  # no temp leftovers


def test_round_trip_gives_identical_embeddings(trained):
    pair, split, result, _ = trained
    run = load_run(result.run_dir, device="cpu")
    assert run.config == result.config
    assert np.array_equal(run.split.test, split.test)
    assert run.metrics.to_dict() == json.loads((result.run_dir / ck.METRICS).read_text())
    assert run.dataset == "tiny"
    a, b = embed(result.model, pair), embed(run.model, pair)
    assert a.modalities == b.modalities
    np.testing.assert_allclose(a.joint[0], b.joint[0], atol=1e-6)
    np.testing.assert_allclose(a.joint[1], b.joint[1], atol=1e-6)
    for m in a.modalities:
        np.testing.assert_allclose(a.weights[m][0], b.weights[m][0], atol=1e-6)
        np.testing.assert_array_equal(a.present[m][1], b.present[m][1])


def test_embed_outputs_and_overrides(trained):
    pair, _, result, _ = trained
    emb = embed(result.model, pair)
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    assert emb.joint[0].shape[0] == n1 and emb.joint[1].shape[0] == n2
    np.testing.assert_allclose(np.linalg.norm(emb.joint[0], axis=1), 1, atol=1e-5)
    total = sum(emb.weights[m][0] for m in emb.modalities)
    np.testing.assert_allclose(total, 1, atol=1e-5)
    vis_absent = ~emb.present["visual"][0]
    assert np.all(emb.weights["visual"][0][vis_absent] == 0)
    assert all(np.all(emb.weight_var[m][0] >= 0) for m in emb.modalities)
    masked = embed(result.model, pair, [ModalityOverride(kg=1, entities=[0, 1], modality="relation")])
    assert not masked.present["relation"][0][:2].any()
    assert np.all(masked.weights["relation"][0][:2] == 0)
    np.testing.assert_allclose(masked.joint[0][2:], emb.joint[0][2:], atol=1e-6)  # others untouched
    assert not np.allclose(masked.joint[0][:2], emb.joint[0][:2])
    noisy = embed(result.model, pair, [ModalityOverride(kg=2, entities=[3], modality="graph", mode="noise")])
    assert not np.allclose(noisy.per_modality["graph"][1][3], emb.per_modality["graph"][1][3])
    with pytest.raises(ConfigError):
        embed(result.model, pair, [ModalityOverride(kg=1, entities=[0], modality="smell")])


def test_rewriting_a_run_replaces_it(trained, tmp_path):
    pair, split, result, _ = trained
    out = tmp_path / "again"
    train(pair, FAST.replace(epochs=1), split=split, out_dir=out)
    train(pair, FAST.replace(epochs=2), split=split, out_dir=out)
    assert load_run(out, device="cpu").metrics.epochs == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again"]


class _Evil:
    def __reduce__(self):
        return (os.system, ("touch " + os.environ["MIMEA_EVIL_SENTINEL"],))


def test_crafted_pickle_is_refused(trained, tmp_path, monkeypatch):
    _, _, result, _ = trained
    run = tmp_path / "evil"
    shutil.copytree(result.run_dir, run)
    sentinel = tmp_path / "pwned"
    monkeypatch.setenv("MIMEA_EVIL_SENTINEL", str(sentinel))
    torch.save({"encoders.graph.entity": _Evil()}, run / ck.WEIGHTS)
    with pytest.raises(RunError, match="weights.pt"):
        load_run(run, device="cpu")
    assert not sentinel.exists()


def test_half_written_and_missing_runs_are_refused(trained, tmp_path):
    _, _, result, _ = trained
    with pytest.raises(RunError, match="no such run"):
        load_run(tmp_path / "nothing")
    half = tmp_path / "half"
    shutil.copytree(result.run_dir, half)
    (half / ck.MARKER).unlink()
    with pytest.raises(RunError, match="not a finished run"):
        load_run(half)
    broken = tmp_path / "broken"
    shutil.copytree(result.run_dir, broken)
    (broken / ck.CONFIG).write_text("{not json")
    with pytest.raises(RunError, match="config.json"):
        load_run(broken)


def test_embed_refuses_another_pair(trained):
    _, _, result, _ = trained
    with pytest.raises(ConfigError, match="entities"):
        embed(result.model, make_tiny_pair(n=30))


def test_config_json_round_trip_and_validation():
    cfg = MIMEAConfig(modalities=("graph", "name"), fusion="attention", use_ot=False)
    assert MIMEAConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ConfigError, match="unknown configuration field"):
        MIMEAConfig.from_dict({"lr": 0.1, "lerning_rate": 1})
    with pytest.raises(ConfigError, match="modality"):
        MIMEAConfig(modalities=("graph", "smell"))
    with pytest.raises(ConfigError, match="fusion"):
        MIMEAConfig(fusion="max")


def test_should_stop_and_time_budget_end_training_early():
    pair = make_tiny_pair(n=30)
    split = tiny_split(pair)
    calls = []
    result = train(pair, FAST.replace(epochs=50), split=split, should_stop=lambda: calls.append(1) or True)
    assert result.metrics.epochs == 1 and len(calls) == 1
    result = train(pair, FAST.replace(epochs=50, time_budget=0.0), split=split)
    assert result.metrics.epochs == 1


def test_extra_seeds_are_checked(trained):
    pair, split, _, _ = trained
    with pytest.raises(ConfigError, match="extra seeds"):
        train(pair, FAST.replace(epochs=1), split=split, extra_seeds=np.array([[0, 10_000]]))


def test_training_is_reproducible_with_a_seed():
    pair = make_tiny_pair(n=30, visual="partial")
    split = tiny_split(pair)
    a = train(pair, FAST.replace(epochs=2, seed=5), split=split)
    b = train(pair, FAST.replace(epochs=2, seed=5), split=split)
    c = train(pair, FAST.replace(epochs=2, seed=6), split=split)
    np.testing.assert_array_equal(a.embeddings.joint[0], b.embeddings.joint[0])
    assert [h["losses"] for h in a.history] == [h["losses"] for h in b.history]
    assert not np.array_equal(a.embeddings.joint[0], c.embeddings.joint[0])


def test_save_killed_between_its_renames_leaves_the_previous_run_loadable(trained, tmp_path, monkeypatch):
    """Simulate a crash right after the previous run was moved aside (the only window in which the
    final path is missing): loading puts the previous run back."""
    pair, split, result, _ = trained
    out = tmp_path / "run"
    shutil.copytree(result.run_dir, out)
    previous_epochs = load_run(out, device="cpu").metrics.epochs
    real_replace = os.replace
    calls = []

    def crash_on_second_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise KeyboardInterrupt("killed mid-save")
        real_replace(src, dst)

    monkeypatch.setattr(ck.os, "replace", crash_on_second_rename)
    with pytest.raises(KeyboardInterrupt):
        train(pair, FAST.replace(epochs=1), split=split, out_dir=out)
    monkeypatch.setattr(ck.os, "replace", real_replace)
    assert not out.exists()  # the crash hit the window
    assert load_run(out, device="cpu").metrics.epochs == previous_epochs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
