"""Active learning (issue 11): query strategies, warm start, the simulated curator, seeded retrain comparison."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from mimea_core.benchmarking.active import oracle_setup, run_cell
from mimea_core.curation.active import (
    CounterpartModel,
    Labels,
    QueryConfig,
    Structure,
    best_unrejected,
    counterpart_features,
    informative_order,
    relearn_config,
    select_batch,
    uses_counterpart,
)
from mimea_core.data.types import KnowledgeGraph
from mimea_core.errors import ConfigError
from mimea_core.evaluation.retrain import SeededChange, seeded_change
from mimea_core.training.loop import fit
from scripts import benchmark_script


def queue_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "source": np.arange(8), "target": np.arange(8) + 100, "rank": 1,
        "score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2],
        "margin": [0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01],
    })  # fmt: skip


def test_strategies_pick_what_they_say():
    q = queue_frame()
    assert select_batch(q, "highest score", 3)["source"].tolist() == [0, 1, 2]
    assert select_batch(q, "uncertain", 3)["source"].tolist() == [7, 6, 5]  # smallest margins
    assert select_batch(q, "informative", 3)["source"].tolist() == [7, 6, 5]  # no graph: uncertainty only
    mixed = select_batch(q, "mixed", 4)["source"].tolist()
    assert mixed == [0, 1, 7, 6]
    r1, r2 = select_batch(q, "random", 4, seed=3), select_batch(q, "random", 4, seed=3)
    assert r1.equals(r2) and r1["source"].nunique() == 4
    assert len(select_batch(q, "random", 20)) == 8
    with pytest.raises(ValueError, match="strategy"):
        select_batch(q, "best", 2)


def test_rejected_pairs_leave_the_queue_and_the_source_comes_back_with_its_next_candidate():
    cands = pd.DataFrame({"source": [0, 0, 1, 1], "target": [5, 6, 7, 8], "rank": [1, 2, 1, 2],
                          "score": [0.9, 0.5, 0.8, 0.1], "margin": [0.4, 0.4, 0.7, 0.7]})  # fmt: skip
    labels = Labels.empty().add(np.array([[0, 5], [1, 7]]), np.array([False, True]))
    assert labels.count == 2 and labels.accepted.tolist() == [[1, 7]] and labels.rejected.tolist() == [[0, 5]]
    queue = best_unrejected(cands, labels.rejected_set())
    assert queue[["source", "target"]].values.tolist() == [[0, 6], [1, 7]]


def test_warm_start_begins_from_the_given_weights(tiny_pair, tiny_split, fast_config):
    first = fit(tiny_pair, fast_config.replace(epochs=1), tiny_split)
    state = {k: v.clone() for k, v in first.model.state_dict().items()}
    frozen = fit(tiny_pair, fast_config.replace(epochs=1, lr=0.0, pseudo_seeding=False), tiny_split, init_state=state)
    for k, v in frozen.model.state_dict().items():
        assert torch.equal(v, state[k]), k
    cold = fit(tiny_pair, fast_config.replace(epochs=1, lr=0.0, pseudo_seeding=False, seed=5), tiny_split)
    assert any(not torch.equal(v, state[k]) for k, v in cold.model.state_dict().items())


def test_relearn_config_is_a_fixed_short_budget(fast_config):
    cfg = relearn_config(fast_config.replace(time_budget=100.0), epochs=4)
    assert cfg.epochs == 4 and cfg.time_budget is None and cfg.pseudo_start <= 4


def test_pair_oracle_never_shows_a_test_entity(tiny_pair, fast_config):
    setup = oracle_setup(tiny_pair, seed=1)
    test = setup.split.test
    assert len(test) and not set(map(tuple, setup.known.tolist())) & set(map(tuple, test.tolist()))
    cell = run_cell(tiny_pair, fast_config, setup, "informative", initial_epochs=1, relearn_epochs=1,
                    batch=2, checkpoints=(0, 2, 4), log=lambda _m: None, oracle="pair")  # fmt: skip
    assert [p["labels"] for p in cell["points"]] == [0, 2, 4]
    queried = np.array(cell["queried"])
    assert len(queried) == 4 and len({tuple(p) for p in queried.tolist()}) == 4
    assert not np.isin(queried[:, 0], test[:, 0]).any() and not np.isin(queried[:, 1], test[:, 1]).any()
    assert all(0 <= p["hits@1"] <= 1 for p in cell["points"]) and len(cell["retrain_seconds"]) == 2


def test_seeded_change_pairs_the_seeds_and_says_when_it_is_noise(tiny_pair, tiny_split, fast_config):
    extra = tiny_split.test[:3]
    change = seeded_change(tiny_pair, fast_config, tiny_split, extra, seeds=(0, 1), epochs=1)
    assert change.per_seed["seed"].tolist() == [0, 1]
    assert np.allclose(change.per_seed["after"] - change.per_seed["before"], change.per_seed["change"])
    assert change.n_test == len(tiny_split.test) - 3
    assert "seeds" in change.verdict()
    noisy = SeededChange(pd.DataFrame({"seed": [0, 1, 2], "before": [.30, .36, .33], "after": [.35, .31, .34],
                                       "change": [.05, -.05, .01]}), 100)  # fmt: skip
    assert noisy.within_noise and noisy.verdict().startswith("Within noise")
    clear = SeededChange(pd.DataFrame({"seed": [0, 1, 2], "before": [.30, .31, .32], "after": [.40, .41, .43],
                                       "change": [.10, .10, .11]}), 100)  # fmt: skip
    assert not clear.within_noise and "better" in clear.verdict()
    one = SeededChange(pd.DataFrame({"seed": [0], "before": [.3], "after": [.4], "change": [.1]}), 10)
    assert one.within_noise and "unknown" in one.verdict()


def test_benchmark_script_summarises_cells_into_json_markdown_and_plot(tmp_path, monkeypatch):
    mod = benchmark_script("active_learning")
    monkeypatch.setattr(mod, "RESULTS", tmp_path)
    monkeypatch.setattr(mod, "CELLS", tmp_path / "cells")
    mod.CELLS.mkdir()
    for seed, h in ((1, 0.1), (2, 0.2)):
        cell = {"pair": "sample", "seed": seed, "strategy": "random",
                "points": [{"labels": 0, "accepted": 0, "hits@1": h}, {"labels": 50, "accepted": 5, "hits@1": h + .1}]}  # fmt: skip
        mod.cell_path("sample", seed, "random").write_text(json.dumps(cell))
        better = {**cell, "strategy": "informative",
                  "points": [{**p, "hits@1": p["hits@1"] + .05 * seed} for p in cell["points"]]}  # fmt: skip
        mod.cell_path("sample", seed, "informative").write_text(json.dumps(better))
    dev = {"pair": "sample", "seed": mod.DEV_SEED, "strategy": "random", "points": [{"labels": 0, "accepted": 0, "hits@1": .9}]}
    mod.cell_path("sample", mod.DEV_SEED, "random").write_text(json.dumps(dev))
    mod.main(["--summary-only"])
    out = json.loads((tmp_path / "active_learning.json").read_text())
    row = next(r for r in out["summary"] if r["labels"] == 50 and r["strategy"] == "random")
    assert row["n_seeds"] == 2 and row["hits@1_mean"] == pytest.approx(0.25)
    assert out["command"].startswith("python benchmarks/active_learning.py") and out["env"]["commit"]
    text = (tmp_path / "active_learning.md").read_text()
    assert "| sample | random | 50 |" in text
    assert "| sample | informative | 50 | +0.075 ± 0.035 | 2 of 2 |" in text  # paired by split seed
    assert all(mod.DEV_SEED not in r["seeds"] for r in out["summary"])  # the development seed is kept apart
    assert "| sample | random | 0 | 0 | 0.900" in (tmp_path / "active_learning_dev.md").read_text()
    assert (tmp_path / "active_learning.html").is_file()


def test_rejected_pairs_as_hard_negatives_push_those_pairs_apart(tiny_pair, tiny_split, fast_config):
    from mimea_core.inference import embed

    wrong = np.stack([tiny_split.test[:6, 0], np.roll(tiny_split.test[:6, 1], 1)], axis=1)
    cfg = fast_config.replace(epochs=3, pseudo_seeding=False)

    def cosines(fitted) -> np.ndarray:
        e1, e2 = embed(fitted.model, tiny_pair, inputs=fitted.inputs).joint
        return (e1[wrong[:, 0]] * e2[wrong[:, 1]]).sum(1)

    plain = fit(tiny_pair, cfg, tiny_split)
    pushed = fit(tiny_pair, cfg, tiny_split, negatives=wrong)
    assert "negative" in pushed.history[0]["losses"] and "negative" not in plain.history[0]["losses"]
    assert cosines(pushed).mean() < cosines(plain).mean()


def star_kg(n: int, hubs: dict[int, list[int]]) -> KnowledgeGraph:
    """``n`` entities; each hub linked to its listed neighbours (relation 0); others isolated."""
    triples = [(h, 0, t) for h, nbs in hubs.items() for t in nbs]
    return KnowledgeGraph(name="G", entities=[f"e{i}" for i in range(n)], names=[f"e{i}" for i in range(n)],
                          relations=["r"], triples=np.array(triples, dtype=np.int64))  # fmt: skip


def test_informative_prefers_central_uncertain_sources_over_isolated_ones():
    kg = star_kg(12, {0: [4, 5, 6, 7], 1: [8, 9, 10]})  # 0 and 1 are hubs; 2, 3 isolated
    q = pd.DataFrame({"source": [0, 1, 2, 3], "target": [100, 101, 102, 103], "rank": 1,
                      "score": [0.5, 0.5, 0.5, 0.5], "margin": [0.1, 0.1, 0.1, 0.1],
                      "mutual_nn": [False, False, False, False]})  # fmt: skip
    structure = Structure.from_kg(kg)
    assert structure.degree().tolist()[:4] == [4, 3, 0, 0]
    assert select_batch(q, "informative", 2, structure=structure)["source"].tolist() == [0, 1]
    # equally central: the uncertain one (small margin, not mutual best) first
    q2 = q.assign(source=[0, 1, 2, 3], margin=[0.9, 0.1, 0.1, 0.1], mutual_nn=[True, False, False, False])
    kg2 = star_kg(12, {0: [4, 5, 6], 1: [8, 9, 10]})
    assert select_batch(q2, "informative", 1, structure=Structure.from_kg(kg2))["source"].tolist() == [1]
    # centrality only (β = 0) and uncertainty only (β = 1)
    only_graph = QueryConfig(uncertainty_weight=0.0, centrality="degree")
    assert informative_order(q2, 1, Structure.from_kg(kg), only_graph).tolist() == [0]
    assert informative_order(q2, 1, Structure.from_kg(kg), QueryConfig(uncertainty_weight=1.0))[0] in (1, 2, 3)
    assert Structure.from_kg(kg).pagerank().argmax() == 0


def test_informative_spreads_a_batch_over_unaligned_neighbourhoods():
    # 0 and 1 share their neighbours 4..7; 2 has its own (8, 9, 10): after 0, the rest of 0's area is covered
    kg = star_kg(12, {0: [4, 5, 6, 7], 1: [4, 5, 6, 7], 2: [8, 9, 10]})
    q = pd.DataFrame({"source": [0, 1, 2, 3], "target": [100, 101, 102, 103], "rank": 1, "score": 0.5,
                      "margin": 0.1, "mutual_nn": False})  # fmt: skip
    cfg = QueryConfig(uncertainty_weight=0.5, centrality="unaligned")
    structure = Structure.from_kg(kg)
    assert informative_order(q, 2, structure, cfg).tolist()[0] in (0, 1)
    # neighbours already aligned count for nothing: with 4..7 aligned, 2 is the most central source
    aligned = Structure.from_kg(kg, aligned=np.array([4, 5, 6, 7]))
    assert aligned.unaligned_degree()[:3].tolist() == [0, 0, 3]
    assert informative_order(q, 1, aligned, cfg).tolist() == [2]
    with pytest.raises(ConfigError, match="centrality"):
        QueryConfig(centrality="closeness")
    with pytest.raises(ConfigError, match="uncertainty_weight"):
        QueryConfig(uncertainty_weight=2.0)


def test_match_power_passes_over_sources_unlikely_to_have_a_counterpart():
    # equally central and uncertain; source 3's best score is the lowest (likely no counterpart)
    kg = star_kg(12, {0: [4, 5], 1: [6, 7], 2: [8, 9], 3: [10, 11]})
    q = pd.DataFrame({"source": [0, 1, 2, 3], "target": [100, 101, 102, 103], "rank": 1,
                      "score": [0.6, 0.7, 0.8, 0.1], "margin": [0.1, 0.1, 0.1, 0.01],
                      "mutual_nn": False})  # fmt: skip
    structure = Structure.from_kg(kg)
    off = QueryConfig(uncertainty_weight=0.5, centrality="unaligned")
    on = QueryConfig(uncertainty_weight=0.5, centrality="unaligned", match_power=1.0)
    assert informative_order(q, 1, structure, off).tolist() == [3]  # the most uncertain
    assert informative_order(q, 4, structure, on).tolist()[-1] == 3  # asked last
    assert informative_order(q, 1, structure, on).tolist() == [2]  # the likeliest match among equals
    degree = QueryConfig(uncertainty_weight=0.5, centrality="degree", match_power=1.0)
    assert informative_order(q, 4, structure, degree).tolist()[-1] == 3
    with pytest.raises(ConfigError, match="match_power"):
        QueryConfig(match_power=-1.0)


def test_learnt_counterpart_model_passes_over_sources_like_those_answered_without_one():
    rng = np.random.default_rng(0)
    n = 400
    q = pd.DataFrame({"source": np.arange(n), "target": np.arange(n) + 1000, "rank": 1,
                      "score": rng.random(n), "mutual_nn": rng.random(n) < 0.5})  # fmt: skip
    q["margin"] = 0.2 * q["score"] + 0.05 * rng.random(n)  # as in real rankings: low score, small margin
    has = q["score"].to_numpy() > 0.4  # in these data, low-scoring sources have no counterpart
    feats = counterpart_features(q)
    assert feats.shape == (n, 6) and np.all((feats[:, 0] > 0) & (feats[:, 0] <= 1))
    model = CounterpartModel.fit(feats[:100], has[:100])
    assert model is not None and model.n == 100
    p = model.predict(q)
    assert p[has].mean() > 0.75 and p[~has].mean() < 0.35 and np.corrcoef(p, has)[0, 1] > 0.6
    # one kind of answer only, or too few: no model (the factor stays 1)
    assert CounterpartModel.fit(feats[:50], np.ones(50, bool)) is None
    assert CounterpartModel.fit(feats[:5], has[:5]) is None
    learnt = QueryConfig(uncertainty_weight=1.0, learn_counterpart=True)
    plain = QueryConfig(uncertainty_weight=1.0)
    picked_plain = select_batch(q, "informative", 50, query=plain, counterpart=model)
    picked = select_batch(q, "informative", 50, query=learnt, counterpart=model)
    assert (picked_plain["score"] > 0.4).mean() < 0.5  # uncertainty alone asks about many without one
    assert (picked["score"] > 0.4).mean() > 0.9
    assert select_batch(q, "informative", 50, query=learnt)["source"].tolist() == picked_plain["source"].tolist()


def test_counterpart_oracle_cell_learns_from_its_answers(tiny_pair, fast_config):
    """With learn_counterpart, batches after the first use the answers given so far (it runs, stays honest)."""
    setup = oracle_setup(tiny_pair, seed=1)
    query = QueryConfig(learn_counterpart=True)
    cell = run_cell(tiny_pair, fast_config, setup, "informative", initial_epochs=1, relearn_epochs=1,
                    batch=6, checkpoints=(0, 6, 12, 18), log=lambda _m: None, query=query)  # fmt: skip
    assert cell["query"]["learn_counterpart"] is True and [p["labels"] for p in cell["points"]] == [0, 6, 12, 18]
    queried = np.array(cell["queried"])
    assert len(set(queried[:, 0].tolist())) == 18 and not np.isin(queried[:, 0], setup.split.test[:, 0]).any()


def test_counterpart_answers_add_seeds_and_unmatched_sources():
    labels = Labels.empty().add_answers(np.array([3, 4, 5]), np.array([30, -1, 50]))
    assert labels.accepted.tolist() == [[3, 30], [5, 50]] and labels.unmatched.tolist() == [4]
    assert labels.count == 3 and len(labels.rejected) == 0


@pytest.mark.parametrize("strategy", ["informative", "random"])
def test_counterpart_oracle_never_reveals_a_test_link(tiny_pair, fast_config, strategy):
    """Test = gold links never shown to the oracle: no labelled pair, no queried source is a test one."""
    setup = oracle_setup(tiny_pair, seed=1)
    test = setup.split.test
    cell = run_cell(tiny_pair, fast_config, setup, strategy, initial_epochs=1, relearn_epochs=1,
                    batch=4, checkpoints=(0, 4, 8), log=lambda _m: None)  # fmt: skip
    assert cell["oracle"] == "counterpart" and [p["labels"] for p in cell["points"]] == [0, 4, 8]
    queried = np.array(cell["queried"])
    assert len(queried) == 8 and len(set(queried[:, 0].tolist())) == 8  # each source asked once
    test_pairs = set(map(tuple, test.tolist()))
    answered = [tuple(p) for p in queried.tolist() if p[1] >= 0]
    assert answered and not set(answered) & test_pairs
    assert set(answered) <= set(map(tuple, setup.known.tolist()))
    assert not np.isin(queried[:, 0], test[:, 0]).any()
    assert cell["points"][-1]["accepted"] == len(answered)


def test_probe_reports_what_each_rule_asks_about_on_the_development_seed(tmp_path, monkeypatch):
    mod = benchmark_script("active_learning_probe")
    monkeypatch.setattr(mod, "RESULTS", tmp_path)
    mod.main(["--pair", "sample", "--initial-epochs", "1", "--picks", "40", "--answers", "60"])
    out = json.loads((tmp_path / "active_learning_probe-sample.json").read_text())
    assert out["queue"] > 40 and 0 < out["with counterpart in queue"] <= 1
    for shares in out["rules"].values():  # corrections and confirmations split the picks with a counterpart
        assert shares["corrections"] + shares["confirmations"] == pytest.approx(shares["with counterpart"])
    assert out["rules"]["highest score"]["confirmations"] >= out["rules"]["informative, uncertainty only (β=1)"]["confirmations"]
    assert "development split seed 100" in (tmp_path / "active_learning_probe-sample.md").read_text()


def test_weighted_random_asks_less_about_sources_unlikely_to_have_a_counterpart():
    rng = np.random.default_rng(1)
    n = 600
    q = pd.DataFrame({"source": np.arange(n), "target": np.arange(n) + 1000, "rank": 1,
                      "score": rng.random(n), "mutual_nn": rng.random(n) < 0.5})  # fmt: skip
    q["margin"] = 0.2 * q["score"] + 0.05 * rng.random(n)
    has = q["score"].to_numpy() > 0.5
    model = CounterpartModel.fit(counterpart_features(q)[:200], has[:200])
    plain = select_batch(q, "random", 100, seed=3)
    weighted = select_batch(q, "weighted random", 100, seed=3, counterpart=model)
    assert len(set(weighted["source"])) == 100
    assert (weighted["score"] > 0.5).mean() > (plain["score"] > 0.5).mean() + 0.15
    assert (weighted["score"] < 0.5).any()  # still random: no source is ruled out
    # before any answers it is plain random
    assert select_batch(q, "weighted random", 100, seed=3)["source"].tolist() == plain["source"].tolist()
    # which strategies read the model (the simulated curator fits one only for those)
    assert uses_counterpart("weighted random") and uses_counterpart("informative", QueryConfig(learn_counterpart=True))
    assert not uses_counterpart("informative") and not uses_counterpart("random")
