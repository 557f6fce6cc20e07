"""Splits of the gold links: deterministic, the right sizes, one-to-many groups kept whole."""

from __future__ import annotations

import numpy as np
import pytest
from tiny import make_tiny_pair

from mimea_core.data import MMKGPair, make_split
from mimea_core.errors import ConfigError


def _pair(links: np.ndarray) -> MMKGPair:
    return make_tiny_pair(links=links)


def _rows(a: np.ndarray) -> set[tuple[int, int]]:
    return {tuple(r) for r in a.tolist()}


def test_split_sizes_deterministic_and_disjoint():
    links = np.stack([np.arange(1000), np.arange(1000)[::-1]], axis=1)
    pair = _pair(links)
    s1 = make_split(pair, seed_ratio=0.2, seed=3)
    s2 = make_split(pair, seed_ratio=0.2, seed=3)
    s3 = make_split(pair, seed_ratio=0.2, seed=4)
    assert (len(s1.train), len(s1.valid), len(s1.test)) == (180, 20, 800)
    for a, b in ((s1.train, s2.train), (s1.valid, s2.valid), (s1.test, s2.test)):
        np.testing.assert_array_equal(a, b)
    assert _rows(s1.train) != _rows(s3.train)
    parts = [_rows(s1.train), _rows(s1.valid), _rows(s1.test)]
    assert set().union(*parts) == _rows(links)
    assert sum(len(p) for p in parts) == len(links)
    assert (s1.seed_ratio, s1.seed) == (0.2, 3)


def test_one_to_many_groups_stay_in_one_part():
    # KG2 entity 0 is linked from KG1 0 and 1; KG1 entity 2 to KG2 1 and 2.
    extra = np.array([[0, 0], [1, 0], [2, 1], [2, 2]])
    rest = np.stack([np.arange(3, 200), np.arange(3, 200)], axis=1)
    pair = _pair(np.concatenate([extra, rest]))
    for seed in range(20):
        split = make_split(pair, seed_ratio=0.5, seed=seed)
        for group in ([(0, 0), (1, 0)], [(2, 1), (2, 2)]):
            homes = [
                name
                for name, part in (("train", split.train), ("valid", split.valid), ("test", split.test))
                if set(group) & _rows(part)
            ]
            assert len(homes) == 1, (seed, group, homes)
            assert set(group) <= _rows(getattr(split, homes[0]))


@pytest.mark.parametrize("ratio", [0.0, 0.005, 0.81, 1.0, -0.2])
def test_ratio_out_of_range_is_a_config_error(ratio):
    pair = _pair(np.stack([np.arange(10), np.arange(10)], axis=1))
    with pytest.raises(ConfigError, match="seed ratio"):
        make_split(pair, seed_ratio=ratio)


def test_ratio_bounds_accepted():
    pair = _pair(np.stack([np.arange(300), np.arange(300)], axis=1))
    assert len(make_split(pair, seed_ratio=0.01).train) + len(make_split(pair, seed_ratio=0.01).valid) == 3
    low = make_split(pair, seed_ratio=0.8)
    assert len(low.test) == 60 and len(low.valid) == 24
