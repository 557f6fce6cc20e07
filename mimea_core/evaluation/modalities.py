"""Accuracy of each modality's embedding space alone (and of the joint one) on the test links."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.data.types import Split
from mimea_core.embeddings import Embeddings
from mimea_core.evaluation.protocols import evaluate_embeddings


def modality_accuracy(emb: Embeddings, split: Split, csls_k: int = 3) -> pd.DataFrame:
    """Standard-protocol KG1→KG2 CSLS Hits@1/Hits@10/MRR of each modality's space alone and of the
    joint space, on the test links; ``coverage`` = share of test links with the modality on both sides."""
    test = np.asarray(split.test, dtype=np.int64).reshape(-1, 2)
    rows = []
    spaces = [
        ("joint", emb.joint),
        *((m, emb.per_modality[m]) for m in emb.modalities if m in emb.per_modality),
    ]
    for name, (X1, X2) in spaces:
        metrics = evaluate_embeddings(Embeddings.from_joint(X1, X2), split, csls_k=csls_k, one_to_one=False)
        if name in emb.present:
            p1, p2 = emb.present[name]
            coverage = float((np.asarray(p1)[test[:, 0]] & np.asarray(p2)[test[:, 1]]).mean())
        else:
            coverage = 1.0
        rows.append({"space": name, **metrics["standard"], "coverage": coverage})
    return pd.DataFrame(rows)
