"""Metric change after retraining with curator-accepted pairs, measured honestly.

Accepted pairs added as seeds may be test links; a model trained on them would be scored on its own
training data. Both runs are therefore evaluated on the same reduced test set: the test links none
of whose two entities is in an accepted pair.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.data.types import Split
from mimea_core.embeddings import Embeddings
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
