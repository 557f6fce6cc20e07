"""Model selection on validation sources ranked among every non-seed KG2 entity (valid_pool=open)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.commands.train import build_config_parser_for_tests, config_from_args
from mimea_core.config import MIMEAConfig
from mimea_core.errors import ConfigError
from mimea_core.evaluation import validation_mrr
from mimea_core.training.loop import fit


def test_candidates_add_distractors():
    g = torch.Generator().manual_seed(0)
    E1 = torch.randn(20, 8, generator=g)
    E2 = E1 + 3.0 * torch.randn(20, 8, generator=g)
    pairs = np.stack([np.arange(5), np.arange(5)], 1)
    own = validation_mrr((E1, E2), pairs)
    wide = validation_mrr((E1, E2), pairs, candidates=np.arange(20))
    assert wide < own  # 15 distractors more can only push gold targets down (here they do)
    assert validation_mrr((E1, E2), pairs, candidates=np.arange(5)) == pytest.approx(own)


def test_config_flag_and_fit():
    assert MIMEAConfig().valid_pool == "valid"  # the default stays the standard protocol
    with pytest.raises(ConfigError, match="valid_pool"):
        MIMEAConfig(valid_pool="all")
    args = build_config_parser_for_tests().parse_args(["p", "--out", "o", "--valid-pool", "open"])
    assert config_from_args(args).valid_pool == "open"
    pair = make_tiny_pair(n=40)
    split = tiny_split(pair)
    config = FAST.replace(modalities=("graph", "value"), epochs=2, pseudo_seeding=False)
    standard = fit(pair, config, split).history[-1]["valid_mrr"]
    open_ = fit(pair, config.replace(valid_pool="open"), split).history[-1]["valid_mrr"]
    assert open_ < standard  # same model (same seed), more candidates


def test_restore_best_off_keeps_the_last_epoch():
    pair = make_tiny_pair(n=40)
    split = tiny_split(pair)
    config = FAST.replace(modalities=("graph", "value"), epochs=3, pseudo_seeding=False)
    assert MIMEAConfig().restore_best
    args = build_config_parser_for_tests().parse_args(["p", "--out", "o", "--no-restore-best"])
    assert not config_from_args(args).restore_best
    last = fit(pair, config.replace(restore_best=False), split)
    assert last.best_epoch == 3 and last.best_valid_mrr == last.history[-1]["valid_mrr"]
    best = fit(pair, config, split)  # same seed: same training, the best epoch's weights restored
    assert best.best_valid_mrr == max(row["valid_mrr"] for row in best.history)
    state_last, state_best = last.model.state_dict(), best.model.state_dict()
    same = all(torch.equal(state_last[k], state_best[k]) for k in state_last)
    assert same == (best.best_epoch == 3)
