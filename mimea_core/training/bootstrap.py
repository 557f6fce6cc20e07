"""Precise bootstrapping: pseudo-seeds from bidirectional (mutual) CSLS nearest neighbours.

Among KG1 candidates ``S`` and KG2 candidates ``T`` (entities not yet aligned), with
``csls(i, j) = 2 cos(i, j) - r_T(i) - r_S(j)`` (mean cosine to the ``k`` nearest on the other side),
a pair is *mutual* when ``j`` is ``i``'s best target and ``i`` is ``j``'s best source. A pair is
accepted when it is mutual, its cosine reaches ``threshold`` and — with ``stable`` — it was already
mutual in the previous round (a pair proposed once waits one round for confirmation). Accepted
pairs are kept for good; at most ``cap`` new pairs per round are added (highest CSLS first).

Each round's precision is measured on the **validation** seeds only: among accepted pairs whose KG1
entity is a validation source, the share that matches its validation link (test links are never read).
Everything works in row chunks, so memory is O(chunk x |T|).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from mimea_core.evaluation.similarity import row_chunks, topk_mean

log = logging.getLogger(__name__)


@dataclass
class BootstrapRound:
    round: int
    proposed: int  # mutual pairs this round
    accepted: int  # newly accepted pairs
    total: int  # accepted pairs so far
    valid_covered: int  # accepted pairs whose KG1 entity is a validation source
    valid_precision: float  # share of those that are correct (NaN when none)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


@dataclass
class BootstrapResult:
    pairs: np.ndarray  # (k, 2) accepted local-id pairs
    rounds: list[BootstrapRound] = field(default_factory=list)


def mutual_csls_pairs(
    e1: torch.Tensor,
    e2: torch.Tensor,
    cand1: np.ndarray,
    cand2: np.ndarray,
    *,
    k: int = 3,
    threshold: float = 0.0,
    chunk_size: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """Mutual CSLS nearest neighbours of candidate rows: ``(pairs (m, 2) local ids, csls (m,))``.

    ``e1``/``e2`` are L2-normalised embeddings of all KG1/KG2 entities; ``threshold`` bounds the
    cosine of a kept pair from below.
    """
    if len(cand1) == 0 or len(cand2) == 0:
        return np.zeros((0, 2), np.int64), np.zeros(0, np.float32)
    a = e1.index_select(0, torch.as_tensor(cand1))
    b = e2.index_select(0, torch.as_tensor(cand2))
    n_a, n_b = len(cand1), len(cand2)
    r_a = torch.empty(n_a)
    r_b = torch.full((n_b,), 0.0)
    # r_b needs the top-k over all rows: keep a running top-k per column
    top_b = torch.full((min(k, n_a), n_b), float("-inf"))
    for rows in row_chunks(n_a, n_b, chunk_size):
        cos = a[rows] @ b.T
        r_a[rows] = topk_mean(cos, k)
        top_b = torch.cat([top_b, cos]).topk(top_b.shape[0], dim=0).values
    r_b = top_b.mean(0)
    row_best = torch.empty(n_a, dtype=torch.long)
    row_score = torch.empty(n_a)
    row_cos = torch.empty(n_a)
    col_best = torch.full((n_b,), -1, dtype=torch.long)
    col_score = torch.full((n_b,), float("-inf"))
    for rows in row_chunks(n_a, n_b, chunk_size):
        cos = a[rows] @ b.T
        csls = 2 * cos - r_a[rows, None] - r_b[None, :]
        v, j = csls.max(1)
        row_best[rows], row_score[rows] = j, v
        row_cos[rows] = cos.gather(1, j[:, None]).squeeze(1)
        cv, ci = csls.max(0)
        better = cv > col_score
        col_score = torch.where(better, cv, col_score)
        col_best = torch.where(better, ci + rows.start, col_best)
    idx = torch.arange(n_a)
    keep = (col_best.index_select(0, row_best) == idx) & (row_cos >= threshold)
    keep_np = keep.numpy()
    pairs = np.stack([np.asarray(cand1)[keep_np], np.asarray(cand2)[row_best[keep].numpy()]], 1).astype(
        np.int64
    )
    return pairs, row_score[keep].numpy()


def valid_precision(pairs: np.ndarray, valid: np.ndarray) -> tuple[int, float]:
    """``(covered, precision)`` of ``pairs`` on the validation links (KG1 side decides coverage)."""
    if len(valid) == 0 or len(pairs) == 0:
        return 0, float("nan")
    on_valid = np.isin(pairs[:, 0], valid[:, 0])
    covered = int(on_valid.sum())
    if not covered:
        return 0, float("nan")
    width = int(max(pairs[:, 1].max(), valid[:, 1].max())) + 1
    correct = np.isin(pairs[on_valid, 0] * width + pairs[on_valid, 1], valid[:, 0] * width + valid[:, 1])
    return covered, float(correct.mean())


class Bootstrapper:
    """Accumulates pseudo-seeds across rounds (see module docstring)."""

    def __init__(
        self,
        seeds: np.ndarray,
        num_entities: tuple[int, int],
        valid: np.ndarray | None = None,
        *,
        stable: bool = True,
        threshold: float = 0.0,
        cap: int | None = None,
        csls_k: int = 3,
    ) -> None:
        self.seeds = np.asarray(seeds, dtype=np.int64).reshape(-1, 2)
        self.num_entities = num_entities
        self.valid = (
            np.zeros((0, 2), np.int64) if valid is None else np.asarray(valid, np.int64).reshape(-1, 2)
        )
        self.stable = stable
        self.threshold = threshold
        self.cap = cap
        self.csls_k = csls_k
        self.pairs = np.zeros((0, 2), np.int64)
        self.rounds: list[BootstrapRound] = []
        self._previous: set[tuple[int, int]] = set()

    def candidates(self) -> tuple[np.ndarray, np.ndarray]:
        used = np.concatenate([self.seeds, self.pairs])
        return (
            np.setdiff1d(np.arange(self.num_entities[0]), used[:, 0]),
            np.setdiff1d(np.arange(self.num_entities[1]), used[:, 1]),
        )

    def step(self, e1: torch.Tensor, e2: torch.Tensor, seconds: float = 0.0) -> BootstrapRound:
        """One round on embeddings ``e1, e2`` (L2-normalised, all entities); returns its record."""
        c1, c2 = self.candidates()
        mutual, score = mutual_csls_pairs(e1, e2, c1, c2, k=self.csls_k, threshold=self.threshold)
        current = {(int(i), int(j)) for i, j in mutual}
        if self.stable:
            ok = np.array([(int(i), int(j)) in self._previous for i, j in mutual], dtype=bool)
        else:
            ok = np.ones(len(mutual), dtype=bool)
        new, score = mutual[ok], score[ok]
        if self.cap is not None and len(new) > self.cap:
            new = new[np.argsort(-score, kind="stable")[: self.cap]]
        self._previous = current
        self.pairs = np.concatenate([self.pairs, new])
        covered, precision = valid_precision(self.pairs, self.valid)
        rec = BootstrapRound(
            len(self.rounds) + 1, len(mutual), len(new), len(self.pairs), covered, precision, seconds
        )
        self.rounds.append(rec)
        log.info(
            "bootstrap round %d: %d mutual, %d accepted, %d total; validation precision %.3f on %d",
            rec.round, rec.proposed, rec.accepted, rec.total, precision, covered,
        )  # fmt: skip
        return rec


def bootstrap_structure(
    features: Callable[[np.ndarray], torch.Tensor],
    seeds: np.ndarray,
    num_entities: tuple[int, int],
    rounds: int,
    valid: np.ndarray | None = None,
    **kwargs,
) -> BootstrapResult:
    """``rounds`` rounds of ``features(seeds + pseudo) -> mutual CSLS pseudo-seeds`` (training-free).

    ``features`` maps (k, 2) local-id pairs to (N, d) L2-normalised embeddings of both KGs (KG1 rows
    first), e.g. :func:`mimea_core.model.propagation.propagate` on the global ids.
    """
    import time

    boot = Bootstrapper(seeds, num_entities, valid, **kwargs)
    n1 = num_entities[0]
    for _ in range(rounds):
        t = time.perf_counter()
        x = features(np.concatenate([boot.seeds, boot.pairs]))
        boot.step(x[:n1], x[n1:], time.perf_counter() - t)
    return BootstrapResult(boot.pairs, boot.rounds)
