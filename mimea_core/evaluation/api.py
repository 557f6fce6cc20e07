"""``evaluate``: test metrics (:class:`AlignmentMetrics`) of embeddings or of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mimea_core.embeddings import Embeddings
from mimea_core.evaluation.protocols import evaluate_embeddings
from mimea_core.metrics import AlignmentMetrics

if TYPE_CHECKING:
    import torch

    from mimea_core.data.types import MMKGPair, Split
    from mimea_core.runs import RunResult


def evaluate(
    target: Embeddings | RunResult,
    split: Split | None = None,
    csls_k: int = 3,
    *,
    pair: MMKGPair | None = None,
    chunk_size: int = 4096,
    one_to_one: bool = True,
    device: str | torch.device = "cpu",
    decoding: str = "csls",
    decoding_reg: float = 0.02,
) -> AlignmentMetrics:
    """Standard, open and one-to-one test metrics (KG1 -> KG2 with CSLS as headline).

    ``target`` is an :class:`Embeddings` (then ``split`` is required) or a run (its own split and,
    unless it carries embeddings, ``pair`` — default: the dataset the run was trained on — embedded
    with its model). ``decoding="sinkhorn"`` ranks the standard protocol by the Sinkhorn plan
    (:mod:`mimea_core.evaluation.decoding`).
    """
    if isinstance(target, Embeddings):
        if split is None:
            raise ValueError("evaluate(embeddings, split): the split is required with plain embeddings")
        emb = target
    else:
        split = split if split is not None else target.split
        emb = target.embeddings
        if emb is None or pair is not None:
            from mimea_core.data import load_pair
            from mimea_core.inference import embed

            emb = embed(target.model, pair if pair is not None else load_pair(target.dataset))
    scores = evaluate_embeddings(
        emb, split, csls_k, chunk_size=chunk_size, one_to_one=one_to_one, device=device, decoding=decoding,
        decoding_reg=decoding_reg,
    )  # fmt: skip
    return AlignmentMetrics.from_dict(scores)
