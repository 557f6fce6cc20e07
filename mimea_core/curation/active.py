"""Active learning: which sources (or pairs) to ask a curator about next, and a warm-start retrain.

The queue holds, per source, its best candidate that was not rejected (rejected pairs leave the
queue; the source comes back with its next candidate). A *strategy* picks ``size`` of those rows:

- ``"informative"``: structure-aware uncertainty (after ActiveEA, Liu et al. 2021): a source is
  worth asking about when the model is unsure of it **and** it sits where a new anchor reaches
  much of the graph. Per source, with each signal a percentile rank in [0, 1]::

      priority = (β · uncertainty + (1 - β) · pct(centrality)) · match
      uncertainty = ½ · (1 - pct(margin)) + ½ · [top candidate is not its target's best source]

  ``match`` is the chance that the source has a counterpart in KG2 at all (asking about one
  without adds no seed, and the sources a model is least sure about are often those). With
  ``learn_counterpart`` (off by default) it is P(counterpart), a logistic fit
  (:class:`CounterpartModel`) on the sources answered so far, an answer with a counterpart being
  positive and "no counterpart" negative (1 until both kinds were given); otherwise
  ``pct(score)^γ`` (``match_power``, default 0: match = 1).

  ``centrality`` (:class:`QueryConfig`): ``"unaligned"`` (default) counts the source's KG1
  neighbours that are not aligned yet (neither seeds nor labelled), ``"degree"`` all its
  neighbours, ``"pagerank"`` its PageRank. A batch is picked greedily: once a source is picked it
  counts as aligned, so for ``"unaligned"`` its neighbours' counts drop and the rest of the batch
  spreads over the graph instead of piling onto one hub's neighbourhood.
  Without a graph (``structure=None``) only the uncertainty is used.
- ``"uncertain"``: the review queue's "most informative first" order (small top-1/top-2 margin
  and uncertain modality weights, :mod:`mimea_core.curation.queue`): the first strategy tried; on
  a weak model nearly every such pair is wrong (see benchmarks/results/active_learning.md);
- ``"highest score"``: the most confident pairs (confirmations);
- ``"random"``: uniformly at random (the baseline every strategy must beat);
- ``"weighted random"``: at random, each source with probability ∝ its learnt P(counterpart)
  (:class:`CounterpartModel`; uniform until both kinds of answer were given): random's coverage of
  the graph, fewer questions about sources without a counterpart;
- ``"mixed"``: half of the batch from each of "highest score" and "uncertain" (disjoint).

Measured (benchmarks/results/active_learning.md; counterpart oracle, 1% seeds, no names): from a
weakly trained start on the sample pair (archived), the default beat random (+.024 ± .016 H@1 at 800
labels; uncertainty alone, β = 1, did not). From the model a curator starts with, on the sample pair
it is above random on every seed (+.033 ± .009 at 400 labels, +.023 ± .009 at 800, split seeds 1-3); on FB15K-DB15K (H@1 .68 at the
start) informative and random are level (−.002 ± .004 at 800 labels, three split seeds), and on the
development seed nothing tried beat random at 400 labels: informative with a learnt P(counterpart)
(.743), centrality only with it (.740), "weighted random" (.742), "highest score" (.739) against .746.
On the sample pair's development seed, β = 0 and γ = 1 were below the default at 400 and 800 labels.

:func:`relearn` retrains from the current model's weights for a fixed number of epochs with the
accepted pairs as extra seeds (no validation: every label the curator gives is used for training).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from mimea_core.config import MIMEAConfig
from mimea_core.curation.queue import informativeness, pct_rank, weight_uncertainty
from mimea_core.data.types import KnowledgeGraph, MMKGPair, Split
from mimea_core.errors import ConfigError

STRATEGIES = ("informative", "highest score", "random", "weighted random", "mixed", "uncertain")
CENTRALITIES = ("unaligned", "degree", "pagerank")
#: Epochs of one warm-start retrain after a batch of labels (measured: < 60 s on the sample pair, 2 busy cores).
RELEARN_EPOCHS = 10


@dataclass(frozen=True)
class QueryConfig:
    """How ``"informative"`` weighs its signals (defaults chosen on split seed 100 of the sample pair)."""

    uncertainty_weight: float = 0.5  # β above: 0 = graph centrality only, 1 = model uncertainty only
    centrality: str = "unaligned"
    # γ: the priority is multiplied by pct(score)^γ, the source's best score as a stand-in for the
    # chance that it has a counterpart at all (asking about a source without one adds no seed);
    # 0 = off; used when no counterpart model is learnt
    match_power: float = 0.0
    # multiply by P(counterpart) learnt from the answers so far (CounterpartModel)
    learn_counterpart: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.uncertainty_weight <= 1.0:
            raise ConfigError(f"uncertainty_weight must be in [0, 1], got {self.uncertainty_weight}")
        if self.centrality not in CENTRALITIES:
            raise ConfigError(f"centrality must be one of {CENTRALITIES}, got {self.centrality!r}")
        if not self.match_power >= 0.0:
            raise ConfigError(f"match_power must be >= 0, got {self.match_power}")


DEFAULT_QUERY = QueryConfig()


@dataclass(frozen=True)
class Structure:
    """KG1's undirected neighbourhoods (CSR) and which KG1 entities are aligned already."""

    indptr: np.ndarray  # (n + 1,)
    indices: np.ndarray  # neighbour ids, self-loops and duplicates removed
    aligned: np.ndarray = field(repr=False)  # bool (n,)

    @classmethod
    def from_kg(cls, kg: KnowledgeGraph, aligned: np.ndarray | None = None) -> Structure:
        """``aligned``: KG1 ids that are seeds or labelled already."""
        n = kg.num_entities
        t = np.asarray(kg.triples, dtype=np.int64).reshape(-1, 3)
        edges = np.concatenate([t[:, [0, 2]], t[:, [2, 0]]])
        edges = np.unique(edges[edges[:, 0] != edges[:, 1]], axis=0)  # sorted by head
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.add.at(indptr, edges[:, 0] + 1, 1)
        mask = np.zeros(n, dtype=bool)
        if aligned is not None and len(aligned):
            mask[np.asarray(aligned, dtype=np.int64)] = True
        return cls(np.cumsum(indptr), edges[:, 1].copy(), mask)

    def with_aligned(self, aligned: np.ndarray) -> Structure:
        """The same graph with ``aligned`` (KG1 ids) as its aligned entities."""
        mask = np.zeros(self.num_entities, dtype=bool)
        mask[np.asarray(aligned, dtype=np.int64)] = True
        return replace(self, aligned=mask)

    @property
    def num_entities(self) -> int:
        return len(self.indptr) - 1

    def neighbours(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i] : self.indptr[i + 1]]

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr).astype(float)

    def unaligned_degree(self) -> np.ndarray:
        """Per entity, how many of its neighbours are not aligned yet."""
        counts = (~self.aligned[self.indices]).astype(float)
        out = np.zeros(self.num_entities)
        np.add.at(out, np.repeat(np.arange(self.num_entities), np.diff(self.indptr)), counts)
        return out

    def pagerank(self, damping: float = 0.85, iterations: int = 50) -> np.ndarray:
        n = self.num_entities
        deg = self.degree()
        rows = np.repeat(np.arange(n), np.diff(self.indptr))
        rank = np.full(n, 1.0 / max(n, 1))
        for _ in range(iterations):
            share = np.where(deg > 0, rank / np.maximum(deg, 1), 0.0)
            new = np.zeros(n)
            np.add.at(new, self.indices, share[rows])
            rank = (1 - damping) / n + damping * (new + rank[deg == 0].sum() / n)
        return rank

    def centrality(self, kind: str) -> np.ndarray:
        if kind == "unaligned":
            return self.unaligned_degree()
        if kind == "degree":
            return self.degree()
        if kind == "pagerank":
            return self.pagerank()
        raise ConfigError(f"centrality must be one of {CENTRALITIES}, got {kind!r}")


def best_unrejected(cands: pd.DataFrame, rejected: set[tuple[int, int]]) -> pd.DataFrame:
    """Per source, its highest-ranked candidate not in ``rejected`` (one row per source)."""
    if len(cands) == 0:
        return cands.copy()
    keys = zip(cands["source"].astype(int), cands["target"].astype(int), strict=True)
    keep = np.array([k not in rejected for k in keys], dtype=bool)
    rows = cands[keep].sort_values(["source", "rank"], kind="stable")
    return rows.drop_duplicates("source", keep="first").reset_index(drop=True)


def _pct_among(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """:func:`~mimea_core.curation.queue.pct_rank` of ``values`` within a fixed ``reference`` sample (sorted), ties averaged."""
    below = np.searchsorted(reference, values, side="left")
    upto = np.searchsorted(reference, values, side="right")
    return (below + 1 + upto) / 2 / len(reference)

def queue_informativeness(queue: pd.DataFrame) -> np.ndarray:
    """The review queue's informativeness of these rows ("uncertain")."""
    return informativeness(queue["margin"], weight_uncertainty(queue))


def model_uncertainty(queue: pd.DataFrame) -> np.ndarray:
    """½ · (1 - pct(margin)) + ½ · [not mutual best]: an ambiguous ranking, or one the reverse
    direction disagrees with (the top target prefers another source)."""
    margin = 1 - pct_rank(queue["margin"])
    if "mutual_nn" not in queue.columns:
        return margin
    return 0.5 * margin + 0.5 * (~queue["mutual_nn"].astype(bool).to_numpy())


def informative_priority(
    queue: pd.DataFrame, structure: Structure | None = None, query: QueryConfig = DEFAULT_QUERY,
    centrality: np.ndarray | None = None, counterpart: CounterpartModel | None = None,
) -> np.ndarray:
    """Per row, (β · uncertainty + (1 - β) · pct(centrality of its source)) · match; higher = ask first.

    ``centrality``: per KG1 entity (default: ``structure.centrality(query.centrality)``).
    Without a graph: uncertainty · match (``match``: see the module docstring).
    """  # fmt: skip
    unc = model_uncertainty(queue)
    match = _match_factor(queue, query, counterpart)
    if structure is None and centrality is None:
        return unc * match
    if centrality is None:
        centrality = structure.centrality(query.centrality)
    beta = query.uncertainty_weight
    mixed = beta * unc + (1 - beta) * pct_rank(centrality[queue["source"].to_numpy(np.int64)])
    return mixed * match


def counterpart_features(queue: pd.DataFrame) -> np.ndarray:
    """(n, 6) per queue row: s, s², m, m², u, s·u with s = pct(score), m = pct(margin) among the
    queue's rows and u = [mutual best]. Percentile ranks keep rows of rankings made by different
    models (one per retrain) comparable; the squares let the fit bend."""
    s = pct_rank(queue["score"])
    m = pct_rank(queue["margin"])
    u = queue["mutual_nn"].astype(float).to_numpy() if "mutual_nn" in queue.columns else np.zeros(len(queue))
    return np.stack([s, s**2, m, m**2, u, s * u], axis=1)


@dataclass(frozen=True)
class CounterpartModel:
    """P(source has a counterpart in KG2 | its queue row) = σ(w · counterpart_features + c),
    fitted on the sources a curator answered ("no counterpart" negative, a counterpart positive).

    Measured on FB15K-DB15K's development split seed (benchmarks/results/active_learning_dev.md):
    the score alone tells the two apart with AUC .86 from the initial model, and with the factor
    80% of "informative"'s first 400 picks have a counterpart instead of 48%
    (benchmarks/results/active_learning_probe-fb15k-db15k.md); over 400 answers it got 263
    counterparts, yet its H@1 (.743) stayed below random's (.746), so it is off by default.
    """

    weights: tuple[float, ...]
    intercept: float
    n: int

    @classmethod
    def fit(cls, features: np.ndarray, has_counterpart: np.ndarray, min_answers: int = 10) -> CounterpartModel | None:
        """None with fewer than ``min_answers`` answers or only one kind of answer."""
        from sklearn.linear_model import LogisticRegression

        y = np.asarray(has_counterpart, dtype=bool)
        if len(y) < min_answers or y.all() or not y.any():
            return None
        fit = LogisticRegression(C=1.0, max_iter=1000).fit(np.asarray(features, dtype=float), y)
        return cls(tuple(float(w) for w in fit.coef_[0]), float(fit.intercept_[0]), int(len(y)))

    def predict(self, queue: pd.DataFrame) -> np.ndarray:
        z = counterpart_features(queue) @ np.asarray(self.weights) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def _match_factor(
    queue: pd.DataFrame, query: QueryConfig, counterpart: CounterpartModel | None = None
) -> np.ndarray | float:
    """How likely each row's source has a counterpart at all: the learnt P(counterpart) when
    ``query.learn_counterpart`` and a model is given, else pct(score)^γ (1 when γ = 0)."""
    if query.learn_counterpart and counterpart is not None:
        return counterpart.predict(queue)
    if query.match_power == 0.0:
        return 1.0
    return pct_rank(queue["score"]) ** query.match_power


def informative_order(
    queue: pd.DataFrame, size: int, structure: Structure | None = None, query: QueryConfig = DEFAULT_QUERY,
    counterpart: CounterpartModel | None = None,
) -> np.ndarray:
    """Row positions of the ``size`` most informative sources (see the module docstring), best first.

    With ``"unaligned"`` centrality the batch is greedy: a picked source counts as aligned, so its
    neighbours' counts drop by one before the next pick.
    """
    size = min(size, len(queue))
    score = queue["score"].to_numpy(float)
    if structure is None or query.centrality != "unaligned":
        return np.lexsort((-score, -informative_priority(queue, structure, query, counterpart=counterpart)))[:size]
    sources = queue["source"].to_numpy(np.int64)
    cent = structure.centrality("unaligned")  # a fresh array: updated in place below
    unc, beta = model_uncertainty(queue), query.uncertainty_weight
    match = _match_factor(queue, query, counterpart)
    reference = np.sort(cent[sources])  # percentiles among the queue at the batch's start
    taken = np.zeros(len(queue), dtype=bool)
    chosen: list[int] = []
    for _ in range(size):
        priority = (beta * unc + (1 - beta) * _pct_among(cent[sources], reference)) * match
        priority[taken] = -np.inf
        ties = np.flatnonzero(priority == priority.max())
        best = int(ties[np.argmax(score[ties])])  # the first of the highest score, as lexsort
        chosen.append(best)
        taken[best] = True
        cent[structure.neighbours(int(sources[best]))] -= 1
    return np.array(chosen, dtype=np.int64)


def informative_rank(
    queue: pd.DataFrame, structure: Structure | None, query: QueryConfig = DEFAULT_QUERY, batch: int = 50,
    counterpart: CounterpartModel | None = None,
) -> np.ndarray:
    """A score in (0, 1] per row whose descending order is "informative"'s: the greedy batch of
    ``batch`` first (:func:`informative_order`), then the rest by :func:`informative_priority`."""
    n = len(queue)
    if n == 0:
        return np.zeros(0)
    first = informative_order(queue, min(batch, n), structure, query, counterpart)
    rest_mask = np.ones(n, dtype=bool)
    rest_mask[first] = False
    rest = np.flatnonzero(rest_mask)
    pr = informative_priority(queue, structure, query, counterpart=counterpart)[rest]
    rest = rest[np.lexsort((-queue["score"].to_numpy(float)[rest], -pr))]
    out = np.empty(n)
    out[np.concatenate([first, rest])] = (n - np.arange(n)) / n
    return out

def uses_counterpart(strategy: str, query: QueryConfig = DEFAULT_QUERY) -> bool:
    """Whether ``strategy`` reads a :class:`CounterpartModel` (so one need be fitted for it)."""
    return strategy == "weighted random" or (strategy == "informative" and query.learn_counterpart)


def select_batch(
    queue: pd.DataFrame,
    strategy: str,
    size: int,
    seed: int = 0,
    *,
    structure: Structure | None = None,
    query: QueryConfig = DEFAULT_QUERY,
    counterpart: CounterpartModel | None = None,
) -> pd.DataFrame:
    """``size`` rows of ``queue`` (one row per source, e.g. :func:`best_unrejected`) by ``strategy``.

    ``structure``: KG1's graph and its aligned entities, for ``"informative"``; ``counterpart``:
    the learnt P(counterpart), for ``"weighted random"`` and for ``"informative"`` when
    ``query.learn_counterpart``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if len(queue) <= size:
        return queue.reset_index(drop=True)
    if strategy in ("random", "weighted random"):
        w = counterpart.predict(queue) if strategy == "weighted random" and counterpart is not None else None
        idx = np.random.default_rng(seed).choice(len(queue), size=size, replace=False,
                                                 p=None if w is None else w / w.sum())  # fmt: skip
        return queue.iloc[np.sort(idx)].reset_index(drop=True)
    if strategy == "informative":
        return queue.iloc[informative_order(queue, size, structure, query, counterpart)].reset_index(drop=True)
    by_score = np.lexsort((-queue["margin"].fillna(0).to_numpy(float), -queue["score"].to_numpy(float)))
    by_info = np.lexsort((-queue["score"].to_numpy(float), -queue_informativeness(queue)))
    if strategy == "highest score":
        chosen = by_score[:size]
    elif strategy == "uncertain":
        chosen = by_info[:size]
    else:  # mixed: half confirmations, half uncertain pairs
        top = list(by_score[: size // 2])
        taken = set(top)
        rest = [i for i in by_info if i not in taken][: size - len(top)]
        chosen = np.array(top + rest)
    return queue.iloc[chosen].reset_index(drop=True)


def _pairs(values=None) -> np.ndarray:
    return np.zeros((0, 2), dtype=np.int64) if values is None else np.asarray(values, dtype=np.int64).reshape(-1, 2)


@dataclass(frozen=True)
class Labels:
    """A curator's (or an oracle's) labels so far.

    Accepted pairs become seeds; rejected pairs leave the queue; ``unmatched`` sources were
    answered "no counterpart in KG2" and leave it too. Each judged pair and each answered source
    is one label.
    """

    accepted: np.ndarray  # (k, 2)
    rejected: np.ndarray  # (r, 2)
    unmatched: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # (u,) KG1 ids

    @classmethod
    def empty(cls) -> Labels:
        return cls(_pairs(), _pairs())

    @property
    def count(self) -> int:
        return len(self.accepted) + len(self.rejected) + len(self.unmatched)

    def add(self, pairs: np.ndarray, right: np.ndarray) -> Labels:
        """Judged pairs: ``right[i]`` says whether ``pairs[i]`` is a match."""
        pairs, right = _pairs(pairs), np.asarray(right, dtype=bool)
        return Labels(np.concatenate([self.accepted, pairs[right]]), np.concatenate([self.rejected, pairs[~right]]),
                      self.unmatched)  # fmt: skip

    def add_answers(self, sources: np.ndarray, targets: np.ndarray) -> Labels:
        """Answered sources: ``targets[i]`` is the counterpart of ``sources[i]``, or -1 for none."""
        sources, targets = np.asarray(sources, dtype=np.int64), np.asarray(targets, dtype=np.int64)
        found = targets >= 0
        return Labels(
            np.concatenate([self.accepted, np.stack([sources[found], targets[found]], axis=1)]),
            self.rejected, np.concatenate([self.unmatched, sources[~found]]),
        )  # fmt: skip

    def rejected_set(self) -> set[tuple[int, int]]:
        return {(int(s), int(t)) for s, t in self.rejected}


def relearn_config(config: MIMEAConfig, epochs: int = RELEARN_EPOCHS) -> MIMEAConfig:
    """``config`` for a warm-start retrain: a fixed number of epochs, pseudo-seeds mined within them."""
    start = max(1, min(config.pseudo_start, epochs // 2))
    return config.replace(
        epochs=epochs, pseudo_start=start, pseudo_every=max(1, epochs // 2), time_budget=None
    )


def relearn(
    pair: MMKGPair,
    config: MIMEAConfig,
    split: Split,
    init_state: dict | None,
    accepted: np.ndarray,
    epochs: int = RELEARN_EPOCHS,
    negatives: np.ndarray | None = None,
):
    """Retrain for ``epochs`` from ``init_state`` with ``accepted`` as extra seeds; returns the ``FitResult``.

    Validation links are left out (``valid`` empty): the model after the last epoch is kept.
    ``negatives``: rejected pairs used as hard negatives (see :func:`~mimea_core.training.loop.fit`).
    """
    return _fit_without_validation(pair, relearn_config(config, epochs), split, init_state, accepted, negatives)


def initial_fit(pair: MMKGPair, config: MIMEAConfig, split: Split, epochs: int):
    """The model a curator starts from: ``config`` trained from scratch for ``epochs`` epochs with its
    own pseudo-seeding schedule (unlike :func:`relearn`, which mines once or twice in a short retrain),
    validation links left out, the last epoch kept; returns the ``FitResult``."""
    empty = np.zeros((0, 2), dtype=np.int64)
    return _fit_without_validation(pair, config.replace(epochs=epochs, time_budget=None), split, None, empty)


def _fit_without_validation(
    pair: MMKGPair,
    config: MIMEAConfig,
    split: Split,
    init_state: dict | None,
    accepted: np.ndarray,
    negatives: np.ndarray | None = None,
):
    """:func:`~mimea_core.training.loop.fit` on ``split`` with its validation links left out."""
    from mimea_core.training.loop import fit

    no_valid = Split(
        train=split.train, valid=np.zeros((0, 2), dtype=np.int64), test=split.test,
        seed_ratio=split.seed_ratio, seed=split.seed,
    )  # fmt: skip
    return fit(pair, config, no_valid, extra_seeds=accepted, init_state=init_state, negatives=negatives)
