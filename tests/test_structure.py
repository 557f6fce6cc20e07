"""Structural channel (label propagation), value tokens, precise bootstrapping: small and fast."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.commands.train import build_config_parser_for_tests, config_from_args
from mimea_core.config import MIMEAConfig
from mimea_core.errors import ConfigError
from mimea_core.evaluation import metrics_from_ranks, rank_queries
from mimea_core.model import build_vocab
from mimea_core.model.propagation import (
    PropagationSettings,
    build_structure_graph,
    propagate,
    structure_features,
)
from mimea_core.model.values import _significant, value_bag
from mimea_core.training.bootstrap import Bootstrapper, mutual_csls_pairs, valid_precision

PAIR = make_tiny_pair(n=60)
SPLIT = tiny_split(PAIR)
SMALL = PropagationSettings(ent_dim=64, rel_heads=8, head_dim=8)


def test_propagation_shape_norm_and_determinism():
    graph = build_structure_graph(PAIR)
    seeds = SPLIT.train + np.array([0, PAIR.kg1.num_entities])
    x = propagate(graph, seeds, SMALL)
    assert x.shape == (graph.total, SMALL.out_dim)
    norms = x.norm(dim=1)
    assert torch.allclose(norms[norms > 0], torch.ones_like(norms[norms > 0]), atol=1e-5)
    assert torch.equal(x, propagate(graph, seeds, SMALL))
    for views in ("entity", "relational"):
        assert propagate(graph, seeds, PropagationSettings(**{**SMALL.__dict__, "views": views})).shape[
            1
        ] == (PropagationSettings(**{**SMALL.__dict__, "views": views}).out_dim)


def test_propagation_aligns_unseen_entities_of_a_permuted_graph():
    x1, _, x2, _ = structure_features(PAIR, SPLIT.train, SMALL)
    ranks = rank_queries(torch.as_tensor(x1), torch.as_tensor(x2), SPLIT.test, np.unique(SPLIT.test[:, 1]))
    # random ranking gives H@1 ~ 1/30; the propagated seed labels must do far better
    assert metrics_from_ranks(ranks["cosine"])["hits@1"] > 0.3


def test_seed_labels_are_the_only_input():
    graph = build_structure_graph(PAIR)
    assert float(propagate(graph, np.zeros((0, 2), np.int64), SMALL).abs().sum()) == 0.0


def test_significant_digits_ignore_units_and_keep_sign():
    assert _significant(np.array([31.79]), 4)[0] == _significant(np.array([31786924.0]), 4)[0]
    assert _significant(np.array([-122.08]), 3)[0] != _significant(np.array([122.08]), 3)[0]
    assert _significant(np.array([9.9996]), 3)[0] == _significant(np.array([1.0]), 3)[0]
    assert _significant(np.array([0.0]), 3)[0] == 0


def test_value_bag_keeps_shared_tokens_with_unit_rows():
    rows, cols, vals, k = value_bag(PAIR)
    assert k > 0 and len(rows) == len(cols) == len(vals)
    n1 = PAIR.kg1.num_entities
    on1, on2 = set(cols[rows < n1].tolist()), set(cols[rows >= n1].tolist())
    assert on1 == on2  # every token is held in both KGs
    sq = np.bincount(rows, weights=vals.astype(np.float64) ** 2)
    assert np.allclose(sq[sq > 0], 1.0, atol=1e-5)
    assert build_vocab(PAIR, 100, 100).value_dim == k


def test_mutual_csls_pairs_recovers_a_permutation():
    gen = torch.Generator().manual_seed(0)
    e1 = F.normalize(torch.randn(20, 8, generator=gen), dim=1)
    perm = torch.randperm(20, generator=gen)
    e2 = torch.empty_like(e1)
    e2[perm] = e1  # KG1 entity i is KG2 entity perm[i]
    pairs, _ = mutual_csls_pairs(e1, e2, np.arange(20), np.arange(20))
    assert sorted(map(tuple, pairs.tolist())) == [(i, int(perm[i])) for i in range(20)]
    pairs, _ = mutual_csls_pairs(e1, e2, np.arange(20), np.arange(20), threshold=1.5)
    assert len(pairs) == 0


def test_bootstrapper_waits_for_confirmation_and_measures_on_validation():
    e = F.normalize(torch.randn(10, 6, generator=torch.Generator().manual_seed(1)), dim=1)
    valid = np.array([[0, 0], [1, 1]])
    boot = Bootstrapper(np.array([[9, 9]]), (10, 10), valid, stable=True)
    first = boot.step(e, e)
    assert first.proposed == 9 and first.accepted == 0
    second = boot.step(e, e)
    assert second.accepted == 9 and second.valid_covered == 2 and second.valid_precision == 1.0
    assert boot.step(e, e).proposed == 0  # accepted pairs leave the candidates
    capped = Bootstrapper(np.zeros((0, 2), np.int64), (10, 10), stable=False, cap=3)
    assert capped.step(e, e).accepted == 3
    assert valid_precision(np.array([[0, 1], [1, 1]]), valid) == (2, 0.5)


def test_config_and_flags():
    with pytest.raises(ConfigError, match="pseudo_method"):
        MIMEAConfig(pseudo_method="greedy")
    with pytest.raises(ConfigError, match="pseudo_cap"):
        MIMEAConfig(pseudo_cap=0)
    parser = build_config_parser_for_tests()
    args = parser.parse_args(["p", "--out", "o", "--pseudo-method", "stable", "--pseudo-cap", "500",
                              "--modalities", "graph,value,structure", "--no-value-frozen"])  # fmt: skip
    config = config_from_args(args)
    assert not config.value_frozen
    assert config.pseudo_method == "stable" and config.pseudo_cap == 500
    assert config.modalities == ("graph", "value", "structure")


def test_training_with_new_parts_saves_and_reloads(tmp_path):
    from mimea_core.runs import load_run
    from mimea_core.training import train

    config = FAST.replace(modalities=("graph", "value", "structure"), pseudo_method="stable", pseudo_start=1,
                          pseudo_every=1, epochs=3)  # fmt: skip
    result = train(PAIR, config, split=SPLIT, out_dir=tmp_path / "run")
    assert result.model.modalities == ["graph", "value", "structure"]
    assert all(row["pseudo_seeds"] >= 0 for row in result.history)
    loaded = load_run(tmp_path / "run")
    assert np.array_equal(loaded.model.vocab.structure_seeds, SPLIT.train)
    assert loaded.model.vocab.value_dim == result.model.vocab.value_dim


def test_seed_rows_do_not_carry_their_own_label():
    seeds = SPLIT.train
    label = slice(0, SMALL.ent_dim)  # the depth-0 block: an entity's own seed label
    x1, _, x2, _ = structure_features(PAIR, seeds, SMALL, folds=1)
    assert np.abs(x1[seeds[:, 0], label]).sum(1).min() > 0
    y1, _, y2, _ = structure_features(PAIR, seeds, SMALL, folds=4)
    assert np.abs(y1[seeds[:, 0], label]).sum() == 0 and np.abs(y2[seeds[:, 1], label]).sum() == 0
    test = SPLIT.test
    assert np.allclose(x1[test[:, 0]], y1[test[:, 0]])  # non-seed rows use every seed


def test_frozen_maps_are_not_trained():
    from mimea_core.model import MIMEAModel, available_modalities

    vocab = build_vocab(PAIR, 100, 100)
    vocab.structure_seeds = SPLIT.train
    for frozen in (True, False):
        config = FAST.replace(
            modalities=("graph", "value", "structure"), value_frozen=frozen, structure_frozen=frozen
        )
        model = MIMEAModel(config, vocab, available_modalities(config, vocab))
        assert model.encoders["value"].weight.requires_grad is not frozen
        assert model.encoders["structure"].weight.requires_grad is not frozen
