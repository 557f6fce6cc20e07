"""The full benchmark pairs from ../shared/data ($MIMEA_DATA): documented counts and reader agreement."""

from __future__ import annotations

import numpy as np
import pytest

from mimea_core.data import load_pair
from mimea_core.data.formats.openke import read_kg as read_openke

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def fb_db(data_root, repo_root, tmp_path_factory, monkeypatch_module):
    monkeypatch_module.setenv("MIMEA_DATA", str(data_root))
    monkeypatch_module.setenv("MIMEA_CACHE", str(tmp_path_factory.mktemp("cache")))
    return load_pair(repo_root / "datasets" / "fb15k-db15k.toml")


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_fb15k_db15k_documented_counts(fb_db):
    db = fb_db.kg2
    assert (fb_db.kg1.name, db.name) == ("FB15K", "DB15K")
    assert len(db.triples) == 89_197 and db.dropped_duplicate_triples == 9_831
    assert db.dropped_duplicate_attributes == 25
    assert db.num_entities == 12_842
    assert fb_db.kg1.num_entities == 14_951
    assert len(fb_db.kg1.triples) == 381_186
    assert fb_db.num_links == 12_846
    assert len(np.unique(fb_db.links[:, 1])) == 12_842
    one_to_many = [w for w in fb_db.warnings if "one-to-many" in w]
    assert len(one_to_many) == 1
    for name in ("Alan_and_Marilyn_Bergman", "Crossover_music", "Rap_rock", "Underground_hip_hop"):
        assert name in one_to_many[0]
    # names: FB15K from its names file, DBpedia from URIs
    fb_index = fb_db.kg1.entity_index()
    assert fb_db.kg1.names[fb_index["/m/0c94fn"]] == "Gary Rydstrom"
    db_index = db.entity_index()
    assert (
        db.names[db_index["<http://dbpedia.org/resource/Wheaton_College_(Illinois)>"]]
        == "Wheaton College (Illinois)"
    )


def test_cached_load_equals_parsed(fb_db, repo_root):
    again = load_pair(repo_root / "datasets" / "fb15k-db15k.toml")
    assert again.fingerprint == fb_db.fingerprint
    for a, b in ((again.kg1, fb_db.kg1), (again.kg2, fb_db.kg2)):
        assert a.entities == b.entities and a.names == b.names and a.relations == b.relations
        np.testing.assert_array_equal(a.triples, b.triples)
        np.testing.assert_array_equal(a.attr_triples, b.attr_triples)
        assert a.images == b.images
    np.testing.assert_array_equal(again.links, fb_db.links)
    assert again.warnings == fb_db.warnings


def test_openke_db15k_agrees_with_mmkb(fb_db, data_root):
    builder = read_openke(data_root / "DB15K", "DB15K")
    kg = builder.build()
    mmkb = fb_db.kg2
    assert set(kg.entities) == set(mmkb.entities)
    as_strings = {(kg.entities[h], kg.relations[r], kg.entities[t]) for h, r, t in kg.triples.tolist()}
    mmkb_strings = {
        (mmkb.entities[h], mmkb.relations[r], mmkb.entities[t]) for h, r, t in mmkb.triples.tolist()
    }
    assert as_strings == mmkb_strings
    assert kg.dropped_duplicate_triples == 9_831


def test_fb15k_yago15k_partial_dates(data_root, repo_root, monkeypatch, tmp_path):
    monkeypatch.setenv("MIMEA_DATA", str(data_root))
    pair = load_pair(repo_root / "datasets" / "fb15k-yago15k.toml", use_cache=False)
    assert pair.num_links == 11_199
    assert any("1,862" in w and "unknown parts" in w for w in pair.warnings)
    yago = pair.kg2
    values = dict(zip(yago.attr_values, yago.attr_numeric.tolist(), strict=True))
    assert values["1987-10-##"] == pytest.approx(1987.75)
    assert not np.isnan(yago.attr_numeric).any()
