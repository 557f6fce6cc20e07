"""A simulated curator: gold links as the oracle, test links never shown to it.

Setup (:func:`oracle_setup`): ``make_split(pair, 0.5, seed)`` keeps link groups whole and holds half
of the links out as the **test** set; of the other half, ``seed_fraction`` of all links are the
starting seeds and the rest is what the oracle knows. Queries never involve a test entity: sources
are the KG1 entities outside the test links and the seeds, candidate targets the KG2 entities
outside the test links and the seeds.

Two oracles (``ORACLES``):

- ``"counterpart"`` (what the app's curator does: pick a source, search KG2, give its counterpart
  or "no counterpart"): the strategy picks *sources*; the oracle answers with the source's gold
  target when the known links have one, else "no counterpart". Test links are never answered:
  their sources are not in the pool, and answers come from the known links only.
- ``"pair"``: the strategy picks (source, best candidate) pairs; the oracle accepts a pair iff it
  is a gold link (a weak model's uncertain pairs are nearly all wrong, so few seeds are gained).

A cell (:func:`run_cell`) trains ``initial_epochs`` from scratch with the config's own pseudo-seeding
schedule (:func:`~mimea_core.curation.active.initial_fit`: the model a curator starts from), then repeats: the strategy picks
``batch`` rows (:func:`mimea_core.curation.active.select_batch`, given the
:class:`~mimea_core.curation.active.CounterpartModel` of the answers so far: "weighted random" uses
it, "informative" with ``learn_counterpart``), the oracle labels them,
accepted pairs become extra seeds, rejected pairs and unmatched sources leave the queue, and the
model retrains ``relearn_epochs`` from its current weights. Test H@1 (standard protocol, KG1 → KG2, CSLS) is
recorded at each label count in ``checkpoints``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mimea_core.candidates import suggest
from mimea_core.config import MIMEAConfig
from mimea_core.curation.active import (
    DEFAULT_QUERY,
    CounterpartModel,
    Labels,
    QueryConfig,
    Structure,
    best_unrejected,
    counterpart_features,
    initial_fit,
    relearn,
    select_batch,
    uses_counterpart,
)
from mimea_core.data.types import MMKGPair, Split
from mimea_core.evaluation import evaluate_embeddings
from mimea_core.inference import embed

CHECKPOINTS = (0, 50, 100, 200, 400, 800)
ORACLES = ("counterpart", "pair")


@dataclass(frozen=True)
class OracleSetup:
    split: Split  # train = starting seeds, valid empty, test = held-out links
    known: np.ndarray  # (k, 2) gold links the oracle may confirm (never test)

    def query_pools(self, labels: Labels) -> tuple[np.ndarray, np.ndarray]:
        """KG1 / KG2 ids left out of the queries: test entities, seeds, accepted pairs, unmatched sources."""
        used = np.concatenate([self.split.test, self.split.train, labels.accepted.reshape(-1, 2)])
        return np.union1d(used[:, 0], labels.unmatched), np.unique(used[:, 1])

    def answers(self, sources: np.ndarray) -> np.ndarray:
        """The counterpart oracle: per source, its known gold target, or -1 ("no counterpart")."""
        known = dict(zip(self.known[:, 0].tolist(), self.known[:, 1].tolist(), strict=True))
        return np.array([known.get(int(s), -1) for s in sources], dtype=np.int64)

    def structure(self, pair: MMKGPair, labels: Labels) -> Structure:
        """KG1's graph with the seeds and accepted sources marked aligned (for "informative")."""
        return Structure.from_kg(pair.kg1, np.concatenate([self.split.train[:, 0], labels.accepted[:, 0]]))


def oracle_setup(pair: MMKGPair, seed: int, seed_fraction: float = 0.01) -> OracleSetup:
    from mimea_core.data import make_split

    half = make_split(pair, seed_ratio=0.5, seed=seed, valid_fraction=0.0)
    rng = np.random.default_rng(seed)
    known = np.concatenate([half.train, half.valid]).reshape(-1, 2)
    known = known[rng.permutation(len(known))]
    n_seeds = max(2, round(seed_fraction * len(pair.links)))
    split = Split(
        train=known[:n_seeds], valid=np.zeros((0, 2), dtype=np.int64), test=half.test,
        seed_ratio=n_seeds / len(pair.links), seed=seed,
    )  # fmt: skip
    return OracleSetup(split=split, known=known[n_seeds:])


def test_hits1(model, pair: MMKGPair, inputs, split: Split) -> tuple[float, object]:
    emb = embed(model, pair, inputs=inputs)
    return float(evaluate_embeddings(emb, split, one_to_one=False)["standard"]["hits@1"]), emb


def query_queue(emb, setup: OracleSetup, labels: Labels, top_k: int = 5):
    """Per source outside the test links/seeds/accepted pairs, its best candidate not yet rejected."""
    out1, out2 = setup.query_pools(labels)
    sources = np.setdiff1d(np.arange(emb.num_entities[0]), out1)
    cands = suggest(emb, top_k=top_k, sources=sources, exclude_kg1=out1, exclude_kg2=out2)
    return best_unrejected(cands, labels.rejected_set())


def run_cell(
    pair: MMKGPair,
    config: MIMEAConfig,
    setup: OracleSetup,
    strategy: str,
    *,
    initial=None,
    initial_epochs: int = 30,
    relearn_epochs: int = 10,
    batch: int = 50,
    checkpoints: tuple[int, ...] = CHECKPOINTS,
    log: Callable[[str], None] = print,
    negatives: bool = False,
    oracle: str = "counterpart",
    query: QueryConfig = DEFAULT_QUERY,
) -> dict:
    """One strategy's curve: ``{"points": [{"labels", "accepted", "hits@1", "seconds"}], ...}``.

    ``negatives``: rejected pairs also train the model as hard negatives (else they only leave the
    queue). ``oracle``: see the module docstring. ``query``: how "informative" weighs its signals.
    """
    if oracle not in ORACLES:
        raise ValueError(f"oracle must be one of {ORACLES}, got {oracle!r}")
    gold = {(int(s), int(t)) for s, t in setup.known}
    labels = Labels.empty()
    t0 = time.perf_counter()
    if initial is None:  # a FitResult shared by the strategies of one seed, or trained here
        initial = initial_fit(pair, config, setup.split, initial_epochs)
    fitted = initial
    state = {k: v.clone() for k, v in fitted.model.state_dict().items()}
    h1, emb = test_hits1(fitted.model, pair, fitted.inputs, setup.split)
    points = [{"labels": 0, "accepted": 0, "hits@1": h1, "seconds": round(time.perf_counter() - t0, 1)}]
    log(f"{strategy}: 0 labels, H@1 {h1:.4f}")
    retrain_seconds: list[float] = []
    queried: list[list[int]] = []
    answered_x: list[np.ndarray] = []  # counterpart oracle: features of the asked sources, for CounterpartModel
    answered_y: list[np.ndarray] = []
    fitting = oracle == "counterpart" and uses_counterpart(strategy, query)  # else no model is read
    round_no = 0
    while labels.count < max(checkpoints):
        queue = query_queue(emb, setup, labels)
        if len(queue) == 0:
            break
        size = min(batch, max(checkpoints) - labels.count)
        counterpart = CounterpartModel.fit(np.concatenate(answered_x), np.concatenate(answered_y)) if answered_x else None
        picked = select_batch(queue, strategy, size, seed=setup.split.seed * 1000 + round_no,
                              structure=setup.structure(pair, labels), query=query, counterpart=counterpart)  # fmt: skip
        if oracle == "counterpart":
            sources = picked["source"].to_numpy(np.int64)
            targets = setup.answers(sources)
            labels = labels.add_answers(sources, targets)
            queried.extend(np.stack([sources, targets], axis=1).tolist())
            if fitting:
                rows = pd.Index(queue["source"].to_numpy(np.int64)).get_indexer(sources)
                answered_x.append(counterpart_features(queue)[rows])  # the row as it was when asked
                answered_y.append(targets >= 0)
        else:
            pairs = picked[["source", "target"]].to_numpy(np.int64)
            right = np.array([(int(s), int(t)) in gold for s, t in pairs], dtype=bool)
            labels = labels.add(pairs, right)
            queried.extend(pairs.tolist())
        round_no += 1
        t_fit = time.perf_counter()
        fitted = relearn(pair, config, setup.split, state, labels.accepted, epochs=relearn_epochs,
                         negatives=labels.rejected if negatives else None)  # fmt: skip
        retrain_seconds.append(time.perf_counter() - t_fit)
        state = {k: v.clone() for k, v in fitted.model.state_dict().items()}
        emb = embed(fitted.model, pair, inputs=fitted.inputs)
        if labels.count in checkpoints:
            h1 = float(evaluate_embeddings(emb, setup.split, one_to_one=False)["standard"]["hits@1"])
            points.append({"labels": labels.count, "accepted": len(labels.accepted), "hits@1": h1,
                           "seconds": round(time.perf_counter() - t0, 1)})  # fmt: skip
            log(f"{strategy}: {labels.count} labels ({len(labels.accepted)} accepted), H@1 {h1:.4f}")
    return {
        "strategy": strategy + ("+negatives" if negatives else ""),
        "points": points,
        "retrain_seconds": [round(s, 2) for s in retrain_seconds],
        "oracle": oracle,
        "query": dataclasses.asdict(query),
        "queried": queried,  # in order: (source, target) pairs judged, or (source, answer or -1) for "counterpart"
        "seeds": len(setup.split.train),
        "test_links": len(setup.split.test),
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
