"""Evaluation on the real FB15K-DB15K links, whose one-to-many links (4 DBpedia targets linked from
two FB15K entities each) must count either source as correct."""

from __future__ import annotations

import numpy as np
import pytest

from mimea_core.data import load_pair
from mimea_core.data.types import Split
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation import evaluate_embeddings

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def fb_db(data_root, repo_root):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MIMEA_DATA", str(data_root))
        yield load_pair(repo_root / "datasets" / "fb15k-db15k.toml")


def test_oracle_embedding_on_real_one_to_many_links(fb_db):
    links = fb_db.links
    targets, counts = np.unique(links[:, 1], return_counts=True)
    shared = targets[counts > 1]
    assert len(shared) == 4  # the documented one-to-many targets
    one_to_many = np.isin(links[:, 1], shared)
    rng = np.random.default_rng(0)
    others = np.flatnonzero(~one_to_many)
    rng.shuffle(others)
    test = np.concatenate([links[one_to_many], links[others[:1500]]])  # every one-to-many link is tested
    split = Split(train=links[others[1500:]], valid=links[others[:0]], test=test, seed_ratio=0.8, seed=0)

    # oracle: a KG1 entity gets its gold target's vector, unlinked KG1 entities a random one
    E2 = rng.normal(size=(fb_db.kg2.num_entities, 32)).astype(np.float32)
    E1 = rng.normal(size=(fb_db.kg1.num_entities, 32)).astype(np.float32)
    E1[links[:, 0]] = E2[links[:, 1]]
    metrics = evaluate_embeddings(Embeddings.from_joint(E1, E2), split)

    for protocol in ("standard", "open"):
        for direction in ("l2r", "r2l"):
            for sim in ("cosine", "csls"):
                assert metrics["detail"][protocol][direction][sim]["hits@1"] == 1.0, (
                    protocol,
                    direction,
                    sim,
                )
    # one-to-one decoding can give each shared target to only one of its two sources
    n_sources = len(np.unique(test[:, 0]))
    assert metrics["one_to_one"]["hits@1"] == pytest.approx((n_sources - len(shared)) / n_sources)
