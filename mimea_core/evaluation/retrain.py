"""Metric change after retraining with curator-accepted pairs, measured honestly.

Accepted pairs added as seeds may be test links; a model trained on them would be scored on its own
training data. Both runs are therefore evaluated on the same reduced test set: the test links none
of whose two entities is in an accepted pair.

Two single trainings also differ in random noise (batch order, dropout): :func:`seeded_change`
trains with and without the pairs under the same seeds, start and budget, and says whether the
change is beyond the seed-to-seed noise (:class:`SeededChange`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import MMKGPair, Split
from mimea_core.embeddings import Embeddings
from mimea_core.errors import CurationError
from mimea_core.evaluation.protocols import evaluate_embeddings


def untouched_split(split: Split, extra_seeds: np.ndarray) -> Split:
    """``split`` with the test links that share an entity with ``extra_seeds`` removed."""
    test = np.asarray(split.test, dtype=np.int64).reshape(-1, 2)
    extra = np.asarray(extra_seeds, dtype=np.int64).reshape(-1, 2)
    keep = ~np.isin(test[:, 0], extra[:, 0]) & ~np.isin(test[:, 1], extra[:, 1])
    return Split(
        train=split.train, valid=split.valid, test=test[keep], seed_ratio=split.seed_ratio, seed=split.seed
    )


def compare_runs(
    before: Embeddings, after: Embeddings, split: Split, extra_seeds: np.ndarray
) -> tuple[pd.DataFrame, int]:
    """Rows per (protocol, metric): before, after, change; and the number of test links used."""
    reduced = untouched_split(split, extra_seeds)
    if len(reduced.test) == 0:
        return pd.DataFrame(columns=["protocol", "metric", "before", "after", "change"]), 0
    m_before = evaluate_embeddings(before, reduced, one_to_one=False)
    m_after = evaluate_embeddings(after, reduced, one_to_one=False)
    rows = [
        {"protocol": protocol, "metric": metric, "before": m_before[protocol][metric],
         "after": m_after[protocol][metric], "change": m_after[protocol][metric] - m_before[protocol][metric]}
        for protocol in ("standard", "open")
        for metric in ("hits@1", "hits@10", "mrr")
    ]  # fmt: skip
    return pd.DataFrame(rows), int(len(reduced.test))


#: Two-sided 95% Student t quantiles by degrees of freedom (n seeds - 1).
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


@dataclass(frozen=True)
class SeededChange:
    """Paired before/after test H@1 over training seeds (same seed, same start, same epochs).

    With per-seed changes dᵢ, the change is d̄ ± t₀.₉₇₅(n-1) · sd(d) / √n (95% interval). It is
    *within noise* when that interval contains 0 (or with a single seed, when nothing can be said).
    """

    per_seed: pd.DataFrame  # seed, before, after, change (H@1, standard protocol, CSLS)
    n_test: int

    @property
    def mean_change(self) -> float:
        return float(self.per_seed["change"].mean())

    @property
    def half_width(self) -> float:
        n = len(self.per_seed)
        if n < 2:
            return float("inf")
        return T95.get(n - 1, 1.96) * float(self.per_seed["change"].std(ddof=1)) / np.sqrt(n)

    @property
    def seed_spread(self) -> float:
        """Standard deviation of H@1 over seeds without the new pairs (the noise of one training)."""
        return float(self.per_seed["before"].std(ddof=1)) if len(self.per_seed) > 1 else float("nan")

    @property
    def within_noise(self) -> bool:
        return not abs(self.mean_change) > self.half_width

    def verdict(self) -> str:
        n = len(self.per_seed)
        if n < 2:
            return f"H@1 change {self.mean_change:+.3f} from one seed: its noise is unknown; use 2 or more seeds."
        ci = f"{self.mean_change:+.3f} ± {self.half_width:.3f} (95%, {n} seeds; seed-to-seed sd {self.seed_spread:.3f})"
        if self.within_noise:
            return f"Within noise: H@1 change {ci}. The accepted pairs made no measurable difference yet."
        word = "better" if self.mean_change > 0 else "worse"
        return f"H@1 is {word} with the accepted pairs: change {ci}, beyond the noise of the training."


def seeded_change(
    pair: MMKGPair,
    config: MIMEAConfig,
    split: Split,
    extra_seeds: np.ndarray,
    *,
    base_seeds: np.ndarray | None = None,
    init_state: dict | None = None,
    seeds: tuple[int, ...] = (0, 1, 2),
    epochs: int | None = None,
) -> SeededChange:
    """Train with ``base_seeds`` (before; default none) and with ``extra_seeds`` (after) as extra seeds,
    for each of ``seeds``: same seed, same start (``init_state``: warm start from the current model),
    same fixed number of ``epochs`` (default: the config's; no early stopping, so both get the same
    budget); score both on the test links untouched by either set of pairs.
    """
    from mimea_core.inference import embed
    from mimea_core.training.loop import fit

    base = np.zeros((0, 2), dtype=np.int64) if base_seeds is None else np.asarray(base_seeds, np.int64).reshape(-1, 2)
    reduced = untouched_split(split, np.concatenate([base, np.asarray(extra_seeds, np.int64).reshape(-1, 2)]))
    if len(reduced.test) == 0:
        raise CurationError("no test link is untouched by the accepted pairs: nothing to measure the change on")
    fixed = Split(
        train=split.train, valid=np.zeros((0, 2), dtype=np.int64), test=reduced.test,
        seed_ratio=split.seed_ratio, seed=split.seed,
    )  # fmt: skip
    budget = config.replace(epochs=epochs or config.epochs, time_budget=None)
    rows = []
    for seed in seeds:
        scores = []
        for extra in (base, extra_seeds):
            fitted = fit(pair, budget.replace(seed=seed), fixed, extra_seeds=extra, init_state=init_state)
            emb = embed(fitted.model, pair, inputs=fitted.inputs)
            scores.append(float(evaluate_embeddings(emb, fixed, one_to_one=False)["standard"]["hits@1"]))
        rows.append({"seed": seed, "before": scores[0], "after": scores[1], "change": scores[1] - scores[0]})
    return SeededChange(pd.DataFrame(rows), int(len(reduced.test)))
