"""One readable number per suggested pair: the probability that it is right, calibrated on held-out links.

Raw scores (CSLS for the model, cosine for the lexical ranking) have no fixed scale. A pair's
confidence is a Platt-style logistic fit on two features of a candidate row,

    P(right | pair) = σ(a · score + b · gap + c),
    gap = score − (best score among the source's *other* candidates)

(for the rank-1 row, gap is the margin to the runner-up; for lower ranks it is negative), fitted on
the candidate rows of the validation sources, a row being right when its target is the source's gold
target. The validation links were never used to rank, so the fit is honest for the queue's sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def confidence_features(frame: pd.DataFrame) -> np.ndarray:
    """(n, 2) float64: ``score`` and ``gap`` (see the module docstring) of each candidate row."""
    score = frame["score"].to_numpy(np.float64)
    if len(frame) == 0:
        return np.zeros((0, 2))
    ordered = frame[["source", "score"]].sort_values(["source", "score"], ascending=[True, False], kind="stable")
    position = ordered.groupby("source").cumcount().to_numpy()
    first = frame["source"].map(ordered[position == 0].set_index("source")["score"]).to_numpy(np.float64)
    second = frame["source"].map(ordered[position == 1].set_index("source")["score"]).to_numpy(np.float64)
    other_best = np.where(score >= first, second, first)
    gap = np.nan_to_num(score - other_best, nan=0.0)
    return np.stack([score, gap], axis=1)


@dataclass(frozen=True)
class ConfidenceModel:
    """``σ(a·score + b·gap + c)``; ``n``/``positives``: rows and right rows it was fitted on."""

    a: float
    b: float
    c: float
    n: int
    positives: int

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        x = confidence_features(frame)
        z = self.a * x[:, 0] + self.b * x[:, 1] + self.c
        return 1.0 / (1.0 + np.exp(-z))


def fit_confidence(frame: pd.DataFrame, gold: np.ndarray) -> ConfidenceModel:
    """Fit on candidate rows of held-out sources; ``gold`` (k, 2) holds their (source, target) links.

    With too few rows or a single class, the model is the constant base rate (a = b = 0).
    """
    from sklearn.linear_model import LogisticRegression

    truth = {int(s): int(t) for s, t in np.asarray(gold, dtype=np.int64).reshape(-1, 2)}
    rows = frame[frame["source"].isin(list(truth))]
    y = np.array([truth[int(s)] == int(t) for s, t in zip(rows["source"], rows["target"], strict=True)])
    positives = int(y.sum())
    if len(y) < 10 or positives == 0 or positives == len(y):
        rate = (positives + 1) / (len(y) + 2)
        return ConfidenceModel(0.0, 0.0, float(np.log(rate / (1 - rate))), len(y), positives)
    fit = LogisticRegression(C=10.0, max_iter=1000).fit(confidence_features(rows), y)
    (a, b), c = fit.coef_[0], fit.intercept_[0]
    return ConfidenceModel(float(a), float(b), float(c), len(y), positives)
