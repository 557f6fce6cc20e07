"""End to end on the bundled real sample (FB15K-DB15K cut): training must really learn."""

from __future__ import annotations

import pytest

from mimea_core.config import MIMEAConfig
from mimea_core.data import load_pair, make_split
from mimea_core.evaluation import evaluate_embeddings
from mimea_core.inference import embed
from mimea_core.model import MIMEAModel, available_modalities, build_vocab
from mimea_core.training import train


@pytest.mark.slow
def test_training_beats_untrained_model_on_sample(sample_data_dir):
    path = sample_data_dir / "fb15k-db15k-small"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    pair = load_pair(path)
    split = make_split(pair, seed_ratio=0.3, seed=0)
    config = MIMEAConfig(dim=64, epochs=12, eval_every=3, patience=10, lr=5e-3)

    vocab = build_vocab(pair, config.relation_topk, config.attribute_topk)
    untrained = MIMEAModel(config, vocab, available_modalities(config, vocab))
    before = evaluate_embeddings(embed(untrained, pair), split, one_to_one=False)["standard"]["hits@1"]

    result = train(pair, config, split=split)
    after = result.metrics.standard["hits@1"]
    print(f"H@1 untrained {before:.3f} -> trained {after:.3f}")
    assert after > before + 0.1, (before, after)
    assert result.metrics.modalities == ["graph", "relation", "attribute", "value"]
    assert result.history[-1]["valid_mrr"] is not None
