"""The curator-first building blocks (issue 11): the training-free first ranking, calibrated
confidence, one-to-one awareness, "no counterpart", KG2 search, attribute evidence, SSSOM exports."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mimea_core.calibration import confidence_features, fit_confidence  # noqa: E402
from mimea_core.curation import DecisionStore, order_queue, review_queue, sssom_text  # noqa: E402  # noqa: E402
from mimea_core.curation.defaults import curation_config, has_names  # noqa: E402
from mimea_core.curation.onetoone import (  # noqa: E402
    accepted_elsewhere,
    one_to_one_clashes,
    retired_mask,
)
from mimea_core.data import load_pair, make_split  # noqa: E402
from mimea_core.errors import CurationError  # noqa: E402
from mimea_core.explain.attributes import (  # noqa: E402
    display_value,
    matched_attributes,
    search_entities,
)
from mimea_core.lexical import lexical_suggest  # noqa: E402

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "fb15k-db15k-small"


@pytest.fixture(scope="module")
def pair():
    return load_pair(str(SAMPLE))


@pytest.fixture(scope="module")
def split(pair):
    return make_split(pair, seed_ratio=0.2, seed=0)


@pytest.fixture(scope="module")
def lexical(pair, split):
    seeds = np.concatenate([split.train, split.valid])
    test = lexical_suggest(pair, sources=split.test[:, 0], exclude_kg1=seeds[:, 0], exclude_kg2=seeds[:, 1])
    held_out = lexical_suggest(pair, sources=split.valid[:, 0], exclude_kg2=split.train[:, 1])
    return test, held_out


def test_names_are_on_for_curation_where_the_data_has_them(pair):
    assert has_names(pair.kg1) and has_names(pair.kg2)
    assert "name" in curation_config(pair).modalities
    from mimea_core.config import MIMEAConfig

    assert "name" not in MIMEAConfig().modalities  # the benchmark default stays without names


def test_lexical_first_ranking_is_right_without_training(pair, split, lexical):
    test, _ = lexical
    gold = dict(map(tuple, split.test.tolist()))
    top = test[test["rank"] == 1]
    hits1 = np.mean([gold[s] == t for s, t in zip(top["source"], top["target"], strict=True)])
    assert hits1 > 0.9, hits1  # names alone: ~.96 on the sample pair
    assert {"score", "margin", "mutual_nn", "one_to_one", "sim_name", "sim_values"} <= set(test.columns)
    assert (test.groupby("source")["rank"].min() == 1).all()
    assert test["score"].between(0, 1 + 1e-6).all()


def test_confidence_is_calibrated_on_held_out_links(split, lexical):
    test, held_out = lexical
    model = fit_confidence(held_out, split.valid)
    assert model.n > 0 and 0 < model.positives < model.n
    conf = model.predict(test)
    assert ((conf >= 0) & (conf <= 1)).all()
    gold = dict(map(tuple, split.test.tolist()))
    right = np.array([gold.get(int(s)) == int(t) for s, t in zip(test["source"], test["target"], strict=True)])
    # calibrated: in each confidence band the share of right pairs is near the band's mean confidence
    for lo, hi in ((0.0, 0.2), (0.8, 1.01)):
        band = (conf >= lo) & (conf < hi)
        assert band.sum() > 50
        assert abs(right[band].mean() - conf[band].mean()) < 0.1
    # the default order (highest confidence first) puts right pairs on top
    queue = test[test["rank"] == 1].assign(confidence=conf[test["rank"].to_numpy() == 1])
    top20 = queue.sort_values("confidence", ascending=False).head(20)
    assert sum(gold[s] == t for s, t in zip(top20["source"], top20["target"], strict=True)) >= 18


def test_confidence_features_gap_is_margin_for_the_top_and_negative_below():
    frame = pd.DataFrame({"source": [0, 0, 0, 1], "target": [5, 6, 7, 5], "score": [0.9, 0.5, 0.4, 0.3]})
    x = confidence_features(frame)
    assert np.allclose(x[:, 1], [0.4, -0.4, -0.5, 0.0])


def test_one_to_one_clash_retire_and_no_counterpart(tmp_path, pair):
    store = DecisionStore(tmp_path / "d.sqlite")
    store.record(0, 10, "accept", "ann")
    assert accepted_elsewhere(store.current_state(), 1, 10)["source"].tolist() == [0]
    store.record(1, 10, "accept", "bob")  # same target: a clash
    clashes = one_to_one_clashes(store.current_state())
    assert sorted(clashes["source"]) == [0, 1] and set(clashes["clash"]) == {"target"}
    queue = pd.DataFrame({"source": [0, 0, 2, 3, 1], "target": [10, 11, 10, 12, 10]})
    store.record_no_counterpart(3, "ann", note="not in DBpedia", action_id="t1")
    store.record_no_counterpart(3, "ann", note="not in DBpedia", action_id="t1")  # delivered twice
    assert store.no_counterpart_sources() == {3}
    assert len(store.no_counterparts()) == 1
    retired = retired_mask(queue, store.current_state(), store.no_counterpart_sources())
    assert retired.tolist() == [False, True, True, True, False]
    store.undo_no_counterpart(3, "ann")
    assert store.no_counterpart_sources() == set()
    with pytest.raises(CurationError, match="no 'no counterpart' decision"):
        store.undo_no_counterpart(3, "ann")
    # in the review queue: the clashing accepts are conflicts, the taken candidates retired
    cands = pd.DataFrame({"source": [0, 0, 2], "target": [10, 11, 10], "rank": [1, 2, 1], "score": [0.9, 0.5, 0.8],
                          "margin": [0.4, 0.4, 0.1], "mutual_nn": True, "one_to_one": True})  # fmt: skip
    q = review_queue(cands, store.current_state(), pair, top1_only=False)
    assert q.set_index(["source", "target"])["state"].to_dict() == {(0, 10): "conflict", (0, 11): "retired", (2, 10): "retired"}


def test_default_order_is_highest_confidence_first():
    queue = pd.DataFrame({"score": [0.1, 0.9, 0.5], "confidence": [0.2, 0.95, 0.5], "margin": [0.1, 0.2, 0.3],
                          "informativeness": [0.9, 0.1, 0.5]})  # fmt: skip
    from mimea_core.curation import ORDERINGS

    assert ORDERINGS[0] == "highest score first"
    assert order_queue(queue, ORDERINGS[0])["confidence"].tolist() == [0.95, 0.5, 0.2]


def test_attribute_evidence_dates_and_search(pair, split):
    assert display_value("date_of_birth", "1946.1667", 1946.1667) == "1946-03"
    assert display_value("birthDate", "1946-03-12", 1946.19) == "1946-03-12"
    assert display_value("population_number", "405657", 405657.0) == "405657"
    # a gold pair whose attributes are named differently in the two graphs but match by value
    found = None
    for s, t in split.test[:300]:
        m = matched_attributes(pair.kg1, int(s), pair.kg2, int(t))
        if len(m) and (m["KG1 attribute"] != m["KG2 attribute"]).all():
            found = m
            break
    assert found is not None
    hits = search_entities(pair.kg2, pair.kg2.names[int(split.test[0, 1])])
    assert int(split.test[0, 1]) in set(hits["entity"])
    assert search_entities(pair.kg2, "dbpedia.org/resource/").shape[0] == 20  # by URI, capped
    assert search_entities(pair.kg2, ".*").empty  # plain text, not a pattern


def test_sssom_export_with_confidence_and_negative_mappings(tmp_path, pair):
    from sssom.parsers import parse_sssom_table
    from sssom.validators import validate

    store = DecisionStore(tmp_path / "d.sqlite")
    store.record(0, 0, "accept", "ann")
    store.record(1, 1, "reject", "ann")
    rejected = [s for s in store.pair_states() if s.decision == "reject"]
    text = sssom_text(store.accepted_states(), pair, rejected=rejected, confidence={(0, 0): 0.93, (1, 1): 0.2})
    path = tmp_path / "m.sssom.tsv"
    path.write_text(text)
    msdf = parse_sssom_table(path)
    validate(msdf)
    df = msdf.df.set_index("subject_label")
    assert len(df) == 2
    negative = df.loc[pair.kg1.names[1]]
    assert negative["predicate_modifier"] == "Not" and float(negative["confidence"]) == pytest.approx(0.2)
    positive = df.loc[pair.kg1.names[0]]
    assert float(positive["confidence"]) == pytest.approx(0.93)
    assert pd.isna(positive.get("predicate_modifier")) or positive["predicate_modifier"] in ("", None)
