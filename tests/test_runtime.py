"""Run-time switches: the ``deterministic`` switch, thread counts, GPU figures on a CPU."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.commands.train import build_config_parser_for_tests, config_from_args
from mimea_core.errors import ConfigError
from mimea_core.training import train
from mimea_core.training.runtime import (
    CUBLAS_ENV,
    deterministic_mode,
    gpu_figures,
    peak_rss_mb,
    reset_peak_rss,
    torch_threads,
    usable_cores,
)


def test_deterministic_mode_is_switched_on_inside_and_restored_after(monkeypatch):
    monkeypatch.delenv(CUBLAS_ENV, raising=False)
    assert not torch.are_deterministic_algorithms_enabled()
    with deterministic_mode(True):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert os.environ[CUBLAS_ENV] == ":4096:8"
    assert not torch.are_deterministic_algorithms_enabled()
    assert CUBLAS_ENV not in os.environ
    with deterministic_mode(False):
        assert not torch.are_deterministic_algorithms_enabled()


def test_deterministic_training_on_the_cpu_is_bit_identical():
    pair = make_tiny_pair(n=40)
    config = FAST.replace(epochs=2, deterministic=True)
    a, b = (train(pair, config, split=tiny_split(pair)) for _ in range(2))
    assert not torch.are_deterministic_algorithms_enabled()
    assert np.array_equal(a.embeddings.joint[0], b.embeddings.joint[0])
    assert [r["losses"] for r in a.history] == [r["losses"] for r in b.history]
    assert a.metrics.device == "cpu" and "peak_gpu_mb" not in a.metrics.extra


def test_torch_threads_sets_and_restores():
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    with torch_threads(0):
        assert torch.get_num_threads() == usable_cores()
    assert torch.get_num_threads() == before
    assert gpu_figures("cpu") == {}


def test_cli_flag_and_config_fields():
    parser = build_config_parser_for_tests()
    config = config_from_args(parser.parse_args(["data", "--out", "x", "--deterministic"]))
    assert config.deterministic
    assert not config_from_args(parser.parse_args(["data", "--out", "x"])).deterministic
    config = config_from_args(parser.parse_args(["data", "--out", "x", "--set", "eval_threads=2"]))
    assert config.eval_threads == 2
    with pytest.raises(ConfigError, match="eval_threads"):
        FAST.replace(eval_threads=-1)


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_peak_rss_restarts_so_a_phase_reports_its_own_peak():
    block = np.ones(200 * 2**20 // 8)  # a phase that holds 200 MiB
    block[::512] += 1
    before = peak_rss_mb()
    del block
    reset_peak_rss()
    small = np.ones(10 * 2**20 // 8)  # a later phase that needs 10 MiB
    small[::512] += 1
    after = peak_rss_mb()
    assert before - after > 150  # the 200 MiB phase is forgotten, the 10 MiB one counted
    assert after >= small.nbytes / 2**20
