"""Fast tests of the app's building blocks: explanation records, queue ordering, uploads, escaping."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the app package lives beside mimea_core

from app.safe import md  # noqa: E402
from app.uploads import write_upload_pair  # noqa: E402
from mimea_core.curation import DecisionStore, filter_queue, next_undecided, order_queue, review_queue
from mimea_core.data import load_pair
from mimea_core.data.types import KnowledgeGraph, MMKGPair, Split
from mimea_core.embeddings import Embeddings
from mimea_core.errors import DataFormatError
from mimea_core.evaluation import untouched_split
from mimea_core.explain import (
    block_targets,
    entity_card,
    pair_modalities,
    sample_entities,
    transport_block,
    weight_records,
    weight_summary,
)


def _pair(n: int = 6) -> MMKGPair:
    kg1 = KnowledgeGraph(
        name="A", entities=[f"a{i}" for i in range(n)], names=[f"alpha (x) {i}" for i in range(n)],
        relations=["http://x.org/rel/knows"], triples=np.array([[0, 0, 1], [2, 0, 0]], dtype=np.int64),
        attributes=["http://x.org/attr/height"], attr_triples=np.array([[0, 0]], dtype=np.int64),
        attr_values=["**1.80**"], attr_numeric=np.array([1.8]), images={0: "img0.jpg"},
    )  # fmt: skip
    kg2 = KnowledgeGraph(
        name="B", entities=[f"b{i}" for i in range(n)], names=[f"beta {i}" for i in range(n)],
        relations=["r"], triples=np.zeros((0, 3), dtype=np.int64),
    )  # fmt: skip
    return MMKGPair(name="A-B", kg1=kg1, kg2=kg2, links=np.stack([np.arange(n), np.arange(n)], 1))


def _emb(n: int = 6, seed: int = 0) -> Embeddings:
    rng = np.random.default_rng(seed)
    e = Embeddings.from_joint(rng.normal(size=(n, 8)), rng.normal(size=(n, 8)))
    e.modalities = ["graph", "attribute"]
    for m in e.modalities:
        x = Embeddings.from_joint(rng.normal(size=(n, 4)), rng.normal(size=(n, 4))).joint
        e.per_modality[m] = x
        e.weights[m] = (np.full(n, 0.5), np.full(n, 0.5))
        e.weight_var[m] = (rng.uniform(0, 0.04, n), rng.uniform(0, 0.04, n))
        e.present[m] = (np.ones(n, bool), np.ones(n, bool))
    return e


def _cands() -> pd.DataFrame:
    rows = []
    for s, (score, margin, var) in enumerate(
        [(0.9, 0.5, 0.0), (0.8, 0.01, 0.04), (0.7, 0.02, 0.0), (0.6, 0.3, 0.04)]
    ):
        for rank, t in enumerate([s, (s + 1) % 6], start=1):
            rows.append({"source": s, "target": t, "rank": rank, "score": score - 0.1 * (rank - 1), "margin": margin,
                         "mutual_nn": rank == 1, "one_to_one": rank == 1, "sim_graph": 0.1,
                         "wvar1_graph": var, "wvar2_graph": var})  # fmt: skip
    return pd.DataFrame(rows)


def test_queue_orders_most_informative_first_and_merges_states(tmp_path):
    pair = _pair()
    store = DecisionStore(tmp_path / "d.sqlite")
    store.record(0, 0, "accept", "x")
    store.record(3, 3, "accept", "x")
    store.record(3, 3, "reject", "y")
    queue = review_queue(_cands(), store.current_state(), pair)
    assert len(queue) == 4  # rank-1 rows only
    assert dict(zip(queue["source"], queue["state"], strict=True)) == {
        0: "accept",
        1: "undecided",
        2: "undecided",
        3: "conflict",
    }
    ordered = order_queue(queue, "most informative first")
    assert list(ordered["source"])[0] == 1  # smallest margin and highest weight variance
    assert list(ordered["source"])[-1] == 0  # largest margin, certain weights
    assert list(order_queue(queue, "highest score first")["source"]) == [0, 1, 2, 3]
    assert list(order_queue(queue, "smallest margin first")["source"]) == [1, 2, 3, 0]
    undecided = filter_queue(ordered, states=["undecided"])
    assert set(undecided["source"]) == {1, 2}
    assert next_undecided(ordered) == (1, 1)
    assert next_undecided(ordered, after=(1, 1)) == (2, 2)
    assert next_undecided(ordered, after=(2, 2)) == (1, 1)  # wraps round
    # plain-text search: regex characters are literal
    assert set(filter_queue(queue, search="(X) 2")["source"]) == {2}
    assert filter_queue(queue, search="[").empty
    assert set(filter_queue(queue, min_score=0.75, max_margin=0.1)["source"]) == {1}


def test_entity_card_and_modality_records():
    pair, emb = _pair(), _emb()
    card = entity_card(pair.kg1, 0)
    assert card.image == "img0.jpg" and card.degree == 2
    assert set(card.neighbours["direction"]) == {"out", "in"}
    assert card.neighbours["relation"].tolist() == ["knows", "knows"]
    assert card.attributes.to_dict("records") == [{"attribute": "height", "value": "**1.80**"}]
    explanation = pair_modalities(emb, 1, 2)
    assert list(explanation["modality"]) == ["graph", "attribute", "joint"]
    assert explanation.iloc[-1]["similarity"] == pytest.approx(float(emb.joint[0][1] @ emb.joint[1][2]))
    assert explanation.iloc[0]["similarity"] == pytest.approx(
        float(emb.per_modality["graph"][0][1] @ emb.per_modality["graph"][1][2])
    )
    records = weight_records(emb)
    assert len(records) == 2 * 2 * 6
    assert np.allclose(
        records["sd"] ** 2, np.concatenate([emb.weight_var[m][k] for m in emb.modalities for k in (0, 1)])
    )
    summary = weight_summary(records)
    assert set(summary["coverage"]) == {1.0}


def test_sampling_keeps_the_listed_entities_first():
    ids = sample_entities(100, 10, keep=[99, 5, 99, 7])
    assert len(ids) == 10 and {99, 5, 7} <= set(ids.tolist())
    assert sample_entities(100, 3, keep=[9, 8, 7, 6]).tolist() == [7, 8, 9]
    assert len(sample_entities(5, 10)) == 5


def test_transport_block_marks_gold_and_accepted():
    pair, emb = _pair(), _emb()
    # make the joint space align i <-> i so the plan concentrates on the diagonal
    emb.joint = (emb.joint[0], emb.joint[0].copy())
    targets = block_targets(_cands(), np.array([0, 1, 2]), pair.links, max_targets=5)
    assert targets[:3].tolist() == [0, 1, 2]  # gold targets first
    block = transport_block(emb, np.array([0, 1, 2]), targets, gold=pair.links, accepted=np.array([[1, 1]]))
    assert np.allclose(block.plan.sum(axis=1), 1.0, atol=1e-4)
    assert block.gold.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert block.accepted.tolist() == [[1, 1]]
    assert (block.plan.argmax(axis=1) == [0, 1, 2]).all()


def test_untouched_split_drops_test_links_sharing_an_entity_with_extra_seeds():
    split = Split(train=np.array([[9, 9]]), valid=np.zeros((0, 2)), test=np.array([[0, 0], [1, 1], [2, 5]]),
                  seed_ratio=0.2, seed=0)  # fmt: skip
    reduced = untouched_split(split, np.array([[1, 1], [7, 5]]))
    assert reduced.test.tolist() == [[0, 0]]


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=True)
    return buf.getvalue()


def test_uploads_accept_the_tsv_layout_and_refuse_pickles(tmp_path):
    links = ("links.tsv", b"a0\tb0\na1\tb1\n")
    kg1 = [("triples.tsv", b"a0\tr\ta1\n"), ("names.tsv", b"a0\t<img src=x onerror=alert(1)>\n")]
    kg2 = [("triples.tsv", b"b0\tr\tb1\n"), ("visual.npy", _npy(np.ones((2, 3), np.float32))),
           ("visual_ids.txt", b"b0\nb1\n")]  # fmt: skip
    folder = write_upload_pair(links, kg1, kg2, tmp_path, max_bytes=10_000)
    pair = load_pair(folder)
    assert pair.num_links == 2 and "<img src=x onerror=alert(1)>" in pair.kg1.names
    evil = _npy(np.array([{"x": 1}], dtype=object))
    with pytest.raises(DataFormatError, match="pickles are refused"):
        write_upload_pair(links, kg1, [*kg2[:1], ("visual.npy", evil)], tmp_path, max_bytes=10_000)
    with pytest.raises(DataFormatError, match="unexpected file name"):
        write_upload_pair(links, [*kg1, ("features.pkl", b"x")], kg2, tmp_path, max_bytes=10_000)
    with pytest.raises(DataFormatError, match="upload limit"):
        write_upload_pair(links, kg1, kg2, tmp_path, max_bytes=10)
    with pytest.raises(DataFormatError, match="required"):
        write_upload_pair(links, kg1[1:], kg2, tmp_path, max_bytes=10_000)
    with pytest.raises(DataFormatError, match="links"):
        write_upload_pair(None, kg1, kg2, tmp_path, max_bytes=10_000)
    # a client-supplied path never escapes the upload folder
    folder2 = write_upload_pair(
        links, [("../../triples.tsv", b"a0\tr\ta1\n")], kg2, tmp_path, max_bytes=10_000
    )
    assert (folder2 / "kg1" / "triples.tsv").is_file()


def test_markdown_escaping_is_literal():
    assert md("**bold**") == r"\*\*bold\*\*"
    assert md("<img src=x onerror=alert(1)>") == r"\<img src\=x onerror\=alert\(1\)\>"
    assert md(":red[x] $y$") == r"\:red\[x\] \$y\$"
