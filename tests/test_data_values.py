"""Attribute values (numbers, dates with unknown parts), display names from URIs, and the parse cache."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from mimea_core.data import cache as pair_cache
from mimea_core.data import load_pair
from mimea_core.data.names import clean_name, name_from_identifier
from mimea_core.data.values import parse_value


@pytest.mark.parametrize(
    ("value", "number", "partial"),
    [
        ("75500000.0", 75_500_000.0, False),
        ("-99.5", -99.5, False),
        ("9.99e+10", 9.99e10, False),
        ("1969-03-01", 1969 + 2 / 12, False),
        ("1987-10-##", 1987 + 9 / 12, True),
        ("1987-##-##", 1987.0, True),
        ("19##-##-##", 1950.0, True),
        ("199#-##-##", 1995.0, True),
        ("-500-1-1", -500.0, False),
        ('"1.5"^^<http://www.w3.org/2001/XMLSchema#double>', 1.5, False),
    ],
)
def test_parse_value(value, number, partial):
    got, got_partial = parse_value(value)
    assert got == pytest.approx(number)
    assert got_partial is partial


@pytest.mark.parametrize("value", ["hello", "inf", "nan", "", "#1##-##-##", "12-ab-01"])
def test_non_numeric_values_are_nan(value):
    assert math.isnan(parse_value(value)[0])


@pytest.mark.parametrize(
    ("identifier", "name"),
    [
        ("<http://dbpedia.org/resource/Victor_Miller_(writer)>", "Victor Miller (writer)"),
        ("<http://dbpedia.org/resource/AC/DC>", "AC/DC"),
        ("<http://yago-knowledge.org/resource/Livonia,_Michigan>", "Livonia, Michigan"),
        ("http://example.org/resource/Caf%C3%A9_M%C3%BCller", "Café Müller"),
        ("http://example.org/onto#Some_Thing", "Some Thing"),
        ("<Harry_S._Truman>", "Harry S. Truman"),
        ("/m/027rn", "/m/027rn"),
        ("Q42", "Q42"),
    ],
)
def test_name_from_identifier(identifier, name):
    assert name_from_identifier(identifier) == name


def test_clean_name():
    assert clean_name("Gary_Rydstrom ") == "Gary Rydstrom"


def test_cache_hit_invalidation_and_broken_entry(sample_data_dir, tmp_path, monkeypatch):
    import shutil

    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "pair"
    shutil.copytree(sample_data_dir / "fb15k-db15k-small", folder)
    first = load_pair(folder)
    entries = list((tmp_path / "cache" / "pairs").glob("*.npz"))
    assert [e.stem for e in entries] == [first.fingerprint]
    assert not list((tmp_path / "cache" / "pairs").glob("*.tmp"))
    again = load_pair(folder)
    assert again.fingerprint == first.fingerprint
    np.testing.assert_array_equal(again.kg2.triples, first.kg2.triples)
    # editing an input file changes the key and the content
    links = folder / "DB15K" / "DB15K_SameAsLink.txt"
    lines = links.read_text().splitlines(keepends=True)
    links.write_text("".join(lines[:-1]))
    edited = load_pair(folder)
    assert edited.fingerprint != first.fingerprint and edited.num_links == first.num_links - 1
    # a broken cache entry is ignored and rewritten
    broken = tmp_path / "cache" / "pairs" / f"{edited.fingerprint}.npz"
    broken.write_bytes(b"not a zip")
    assert load_pair(folder).num_links == edited.num_links
    assert broken.stat().st_size > 1000


def test_unwritable_cache_is_not_an_error(sample_data_dir, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("MIMEA_CACHE", str(blocker))  # a file, so the cache folder cannot be made
    assert load_pair(sample_data_dir / "fb15k-yago15k-small").num_links > 0
    assert pair_cache.cache_dir().parent == blocker
    assert os.listdir(tmp_path) == ["file"]
