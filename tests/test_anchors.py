"""Label-free value anchors: found where values agree, filtered by shared tokens and margin."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.commands.train import build_config_parser_for_tests, config_from_args
from mimea_core.config import MIMEAConfig
from mimea_core.errors import ConfigError
from mimea_core.training.anchors import value_anchors
from mimea_core.training.loop import fit


def _pair_with_agreeing_values(n: int = 40, agree: int = 20):
    """Tiny pair whose first ``agree`` KG1 entities have their exact values in KG2 (two each)."""
    pair = make_tiny_pair(n=n)
    perm = np.empty(n, np.int64)
    perm[pair.links[:, 0]] = pair.links[:, 1]
    v1 = pair.kg1.attr_numeric
    owner1 = pair.kg1.attr_triples[:, 0]
    v2 = np.asarray(pair.kg2.attr_numeric, dtype=np.float64).copy()
    owner2 = pair.kg2.attr_triples[:, 0]
    for i in range(agree):  # KG2 rows of perm[i] take KG1 entity i's values (same order: a2 = perm[a_ent])
        v2[owner2 == perm[i]] = v1[owner1 == i]
    for i in range(agree, n):  # the others: values that agree with nobody
        v2[owner2 == perm[i]] = 1e6 + 7.77 * np.arange((owner2 == perm[i]).sum()) + 13.1 * i
    kg2 = dataclasses.replace(pair.kg2, attr_numeric=v2, attr_values=[str(v) for v in v2])
    return dataclasses.replace(pair, kg2=kg2), perm


def test_anchors_are_correct_mutual_pairs_outside_the_seeds():
    pair, perm = _pair_with_agreeing_values()
    seeds = np.array([[0, perm[0]], [1, perm[1]]])
    valid = np.stack([np.arange(2, 6), perm[2:6]], 1)
    result = value_anchors(pair, seeds[:, 0], seeds[:, 1], min_shared=4, min_margin=0.05, valid=valid)
    assert len(result.pairs) >= 10
    assert all(perm[i] == j for i, j in result.pairs)  # agreeing values: every anchor is right
    assert not np.isin(result.pairs[:, 0], seeds[:, 0]).any()  # seeds are never re-anchored
    assert set(result.pairs[:, 0]) <= set(range(2, 20))  # entities whose values agree with nobody: none
    assert (result.shared >= 4).all() and (result.margin > 0.05).all()
    assert result.valid_covered > 0 and result.valid_precision == 1.0


def test_filters_remove_weak_pairs():
    pair, _ = _pair_with_agreeing_values()
    none = np.zeros(0, np.int64)
    loose = value_anchors(pair, none, none, min_shared=1, min_margin=0.0)
    strict = value_anchors(pair, none, none, min_shared=7, min_margin=0.0)
    assert len(strict.pairs) < len(loose.pairs)  # two values give at most 6 tokens
    assert len(strict.pairs) == 0
    assert len(value_anchors(pair, none, none, min_shared=1, min_margin=0.99).pairs) < len(loose.pairs)


def test_config_and_flags():
    assert not MIMEAConfig().value_anchors  # off by default
    with pytest.raises(ConfigError, match="anchor_min_shared"):
        MIMEAConfig(anchor_min_shared=0)
    with pytest.raises(ConfigError, match="anchor_margin"):
        MIMEAConfig(anchor_margin=1.5)
    args = build_config_parser_for_tests().parse_args(
        ["p", "--out", "o", "--value-anchors", "--anchor-min-shared", "3", "--anchor-margin", "0.1"]
    )
    config = config_from_args(args)
    assert config.value_anchors and config.anchor_min_shared == 3 and config.anchor_margin == 0.1


def test_fit_trains_on_the_anchors():
    pair, _ = _pair_with_agreeing_values()
    split = tiny_split(pair, train=0.1, valid=0.2)
    config = FAST.replace(modalities=("graph", "value"), epochs=2, pseudo_seeding=False, batch_size=4)
    off = fit(pair, config, split)
    on = fit(pair, config.replace(value_anchors=True), split)
    assert off.anchors is None and off.history[0]["anchor_seeds"] == 0
    assert on.anchors is not None and on.history[0]["anchor_seeds"] == len(on.anchors.pairs) > 0

    def steps(n: int) -> int:  # batches of 4; a last batch of one pair is skipped
        return n // 4 + (n % 4 >= 2)

    assert off.history[0]["steps"] == steps(len(split.train))
    assert on.history[0]["steps"] == steps(len(split.train) + len(on.anchors.pairs)) > off.history[0]["steps"]
    assert not np.isin(on.anchors.pairs[:, 0], split.train[:, 0]).any()
