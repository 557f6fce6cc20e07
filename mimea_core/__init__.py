"""MIMEA: multi-modal entity alignment between two multi-modal knowledge graphs.

The front door (see README, "Python")::

    import mimea_core as m

    pair = m.load_pair("sample_data/fb15k-db15k-small")
    run = m.train(pair, m.MIMEAConfig(epochs=20), m.make_split(pair, seed_ratio=0.2, seed=0), out_dir="runs/demo")
    print(m.evaluate(run).to_frame())          # AlignmentMetrics as a table
    print(m.suggest(run.embeddings, top_k=5))  # candidate pairs with scores and margins
    same = m.load_run("runs/demo")             # the run back from disk (RunResult)

The names are imported on first use, so ``import mimea_core`` stays cheap (no torch).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "load_pair": "mimea_core.data",
    "make_split": "mimea_core.data",
    "MMKGPair": "mimea_core.data",
    "Split": "mimea_core.data",
    "MIMEAConfig": "mimea_core.config",
    "train": "mimea_core.training",
    "RunResult": "mimea_core.runs",
    "load_run": "mimea_core.runs",
    "evaluate": "mimea_core.evaluation",
    "AlignmentMetrics": "mimea_core.metrics",
    "embed": "mimea_core.inference",
    "suggest": "mimea_core.candidates",
    "DecisionStore": "mimea_core.curation",
    "MimeaError": "mimea_core.errors",
}

__all__ = [
    "AlignmentMetrics",
    "DecisionStore",
    "MIMEAConfig",
    "MMKGPair",
    "MimeaError",
    "RunResult",
    "Split",
    "embed",
    "evaluate",
    "load_pair",
    "load_run",
    "make_split",
    "suggest",
    "train",
]

if TYPE_CHECKING:
    from mimea_core.candidates import suggest
    from mimea_core.config import MIMEAConfig
    from mimea_core.curation import DecisionStore
    from mimea_core.data import MMKGPair, Split, load_pair, make_split
    from mimea_core.errors import MimeaError
    from mimea_core.evaluation import evaluate
    from mimea_core.inference import embed
    from mimea_core.metrics import AlignmentMetrics
    from mimea_core.runs import RunResult, load_run
    from mimea_core.training import train


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'mimea_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
