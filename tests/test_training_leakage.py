"""Leakage invariance: training never reads the test links.

Two trainings whose inputs differ only in the test links — once with the test targets permuted, once
with the test links removed from the pair's link list as well — must give bit-identical weights,
pseudo-seeds and validation history. Only the (test) evaluation afterwards may differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.data.types import Split
from mimea_core.training import train

TIMING = ("epoch_seconds", "elapsed_s")


def _history(result) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in TIMING} for row in result.history]


def test_training_is_invariant_to_the_test_links():
    pair = make_tiny_pair(n=60, visual="partial")
    split = tiny_split(pair, train=0.4, valid=0.15)
    config = FAST.replace(epochs=4, eval_every=1, pseudo_start=2, pseudo_every=1, pseudo_threshold=0.0)
    rng = np.random.default_rng(7)
    permuted = split.test.copy()
    permuted[:, 1] = permuted[rng.permutation(len(permuted)), 1]
    assert not np.array_equal(permuted, split.test)
    split_permuted = dataclasses.replace(split, test=permuted)
    seeds = np.concatenate([split.train, split.valid])
    pair_without_test = dataclasses.replace(pair, links=seeds)

    runs = [
        train(pair, config, split=split),
        train(pair, config, split=split_permuted),
        train(pair_without_test, config, split=split_permuted),
    ]
    reference = runs[0]
    assert any(row["valid_mrr"] is not None for row in reference.history)
    assert len(reference.pseudo_seeds) > 0  # the pseudo-seeding path (over non-seed entities) ran
    for other in runs[1:]:
        assert _history(other) == _history(reference)
        np.testing.assert_array_equal(other.pseudo_seeds, reference.pseudo_seeds)
        a, b = reference.model.state_dict(), other.model.state_dict()
        assert a.keys() == b.keys()
        assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
        np.testing.assert_array_equal(other.embeddings.joint[0], reference.embeddings.joint[0])
    assert isinstance(split_permuted, Split)
    # the evaluation does read the test links: permuted targets score differently
    assert runs[1].metrics.standard != reference.metrics.standard


def test_an_observer_of_validations_sees_each_one_and_changes_nothing():
    """``on_validation`` (used by the time-to-accuracy benchmark) gets the current joint embeddings
    at every validation; training with it gives the same weights and history as without it."""
    pair = make_tiny_pair(n=60)
    split = tiny_split(pair, train=0.4, valid=0.15)
    # validations at epochs 2 and 4, each followed by pseudo-seeding from the same embeddings
    config = FAST.replace(epochs=5, eval_every=2, pseudo_start=2, pseudo_every=2, pseudo_threshold=0.0)
    seen: list[tuple[int, tuple[int, int]]] = []

    def observe(epoch, e12):
        seen.append((epoch, (len(e12[0]), len(e12[1]))))
        e12[0].mul_(0.0)  # even an observer that scribbles on what it is given changes nothing

    watched = train(pair, config, split=split, on_validation=observe)
    plain = train(pair, config, split=split)
    sizes = (pair.kg1.num_entities, pair.kg2.num_entities)
    assert seen == [(2, sizes), (4, sizes), (5, sizes)]  # and the last epoch, always validated
    assert len(plain.pseudo_seeds) > 0
    np.testing.assert_array_equal(watched.pseudo_seeds, plain.pseudo_seeds)
    assert _history(watched) == _history(plain)
    a, b = watched.model.state_dict(), plain.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
