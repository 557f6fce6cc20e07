"""Sinkhorn decoding of the test matrix: marginals, hub correction, the evaluation switch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mimea_core.commands.train import build_config_parser_for_tests, config_from_args
from mimea_core.config import MIMEAConfig
from mimea_core.data.types import Split
from mimea_core.embeddings import Embeddings
from mimea_core.errors import ConfigError
from mimea_core.evaluation import evaluate_embeddings
from mimea_core.evaluation.decoding import sinkhorn_log_plan
from mimea_core.evaluation.protocols import sinkhorn_ranks


def test_plan_is_doubly_stochastic_and_chunking_does_not_change_it():
    S = torch.rand(7, 7, generator=torch.Generator().manual_seed(0))
    L = sinkhorn_log_plan(S, reg=0.5, iters=300)
    P = L.exp()
    assert torch.allclose(P.sum(0), torch.ones(7), atol=1e-5)
    assert torch.allclose(P.sum(1), torch.ones(7), atol=1e-3)
    assert torch.allclose(sinkhorn_log_plan(S, reg=0.5, iters=300, chunk_rows=2), L, atol=1e-5)
    assert torch.equal(S, S.clone()) and not torch.equal(sinkhorn_log_plan(S.clone(), inplace=True), S)
    with pytest.raises(ValueError, match="reg"):
        sinkhorn_log_plan(S, reg=0.0)


def _hub_embeddings(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """Every source's nearest target is target 0 (a hub); its own target i is second."""
    E1 = torch.zeros(n, n + 1)
    E1[:, :n] = torch.eye(n) * 0.6
    E1[:, n] = 0.8  # a component every source shares
    E2 = torch.eye(n, n + 1)
    E2[0, 0], E2[0, n] = 0.3, 0.95  # target 0 has it too: cos .76 with every other source, > .6
    return torch.nn.functional.normalize(E1, dim=1), torch.nn.functional.normalize(E2, dim=1)


def test_sinkhorn_corrects_a_hub_that_nearest_neighbour_ranking_cannot():
    E1, E2 = _hub_embeddings()
    pairs = np.stack([np.arange(6), np.arange(6)], 1)
    assert ((E1 @ E2.T).argmax(1) == 0).all()  # cosine: every source picks the hub
    ranks = sinkhorn_ranks(E1, E2, pairs, reg=0.05, iters=20)
    assert (ranks == 1).all()
    assert sinkhorn_ranks(E1, E2, pairs, reg=0.05, iters=20, max_elements=10) is None  # dense bound


def test_evaluation_switch():
    E1, E2 = _hub_embeddings()
    links = np.stack([np.arange(6), np.arange(6)], 1)
    split = Split(train=links[:0], valid=links[:0], test=links, seed_ratio=0.0, seed=0)
    emb = Embeddings.from_joint(E1.numpy(), E2.numpy())
    plain = evaluate_embeddings(emb, split, csls_k=1, one_to_one=False)
    sink = evaluate_embeddings(emb, split, csls_k=1, one_to_one=False, decoding="sinkhorn")
    assert "decoding" not in plain and sink["decoding"] == "sinkhorn"
    assert sink["standard"] == sink["detail"]["standard"]["l2r"]["sinkhorn"]
    assert sink["standard"]["hits@1"] == 1.0 > plain["detail"]["standard"]["l2r"]["cosine"]["hits@1"]
    assert sink["open"] == plain["open"]  # the open protocol stays CSLS
    with pytest.raises(ValueError, match="decoding"):
        evaluate_embeddings(emb, split, decoding="greedy")


def test_config_and_flags():
    assert MIMEAConfig().decoding == "csls"  # off by default
    with pytest.raises(ConfigError, match="decoding"):
        MIMEAConfig(decoding="greedy")
    with pytest.raises(ConfigError, match="decoding_reg"):
        MIMEAConfig(decoding_reg=0.0)
    args = build_config_parser_for_tests().parse_args(
        ["p", "--out", "o", "--decoding", "sinkhorn", "--decoding-reg", "0.1"]
    )
    config = config_from_args(args)
    assert config.decoding == "sinkhorn" and config.decoding_reg == 0.1


def test_train_reports_the_sinkhorn_headline(tmp_path):
    from tiny import FAST, make_tiny_pair, tiny_split

    from mimea_core.runs import read_metrics
    from mimea_core.training import train

    pair = make_tiny_pair(n=40)
    config = FAST.replace(modalities=("graph", "value"), epochs=1, decoding="sinkhorn")
    result = train(pair, config, split=tiny_split(pair), out_dir=tmp_path / "run")
    metrics = result.metrics
    assert metrics.extra["decoding"] == "sinkhorn"
    assert metrics.standard == metrics.detail["standard"]["l2r"]["sinkhorn"]
    assert read_metrics(tmp_path / "run").extra["decoding"] == "sinkhorn"  # survives the metrics file
