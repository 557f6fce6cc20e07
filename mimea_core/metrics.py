"""``AlignmentMetrics``: the one typed shape of test metrics (``metrics.json``, ``evaluate --json``).

``to_dict()`` gives exactly the JSON written to ``metrics.json`` (DESIGN.md section 3), with the
keys in this order: the run description (``dataset``, ``seed_ratio``, ``split_seed``,
``modalities``), the scores (``standard``, ``open``, ``one_to_one``, ``detail``), then the training
figures (``epochs``, ``train_seconds``, ``peak_rss_mb``, ``device``). Fields left ``None`` (e.g. the
training figures of a plain evaluation) are omitted; keys this class does not know are kept in
``extra`` and written back unchanged, so a newer file survives a round trip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

Scores = dict[str, float]  # {"hits@1", "hits@10", "mrr"}

_HEAD = ("dataset", "seed_ratio", "split_seed", "modalities")
_SCORES = ("standard", "open", "one_to_one", "detail")
_TAIL = ("epochs", "train_seconds", "peak_rss_mb", "device")


@dataclass
class AlignmentMetrics:
    """Test metrics of one run; the headline ``standard``/``open`` are KG1 -> KG2 with CSLS."""

    standard: Scores
    open: Scores
    one_to_one: Scores  # {"hits@1"} of the one-to-one decoding (NaN when disabled)
    detail: dict[str, dict[str, dict[str, Scores]]]  # protocol -> direction -> similarity -> scores
    dataset: str | None = None
    seed_ratio: float | None = None
    split_seed: int | None = None
    modalities: list[str] | None = None
    epochs: int | None = None
    train_seconds: float | None = None
    peak_rss_mb: float | None = None
    device: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hits1(self) -> float:
        """Headline Hits@1 (standard protocol, KG1 -> KG2, CSLS)."""
        return float(self.standard.get("hits@1", math.nan))

    @property
    def mrr(self) -> float:
        return float(self.standard.get("mrr", math.nan))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in (*_HEAD, *_SCORES, *_TAIL):
            value = getattr(self, name)
            if value is not None:
                out[name] = list(value) if name == "modalities" else value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AlignmentMetrics:
        """Inverse of :meth:`to_dict`; missing score tables become empty dicts."""
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in d.items() if k in known}
        for name in _SCORES:
            values.setdefault(name, {})
        if values.get("modalities") is not None:
            values["modalities"] = list(values["modalities"])
        return cls(**values, extra={k: v for k, v in d.items() if k not in known})

    def with_run(self, **run_fields: Any) -> AlignmentMetrics:
        """A copy with the run description / training figures set (``dataset=...``, ``epochs=...``)."""
        return AlignmentMetrics.from_dict({**self.to_dict(), **run_fields})

    def to_frame(self, *, detail: bool = False) -> pd.DataFrame:
        """Headline table (protocol x hits@1/hits@10/mrr), or with ``detail=True`` one row per
        protocol x direction x similarity."""
        import pandas as pd

        cols = ("hits@1", "hits@10", "mrr")
        if not detail:
            rows = [
                {"protocol": p, **{k: (getattr(self, p) or {}).get(k) for k in cols}}
                for p in ("standard", "open", "one_to_one")
            ]
            return pd.DataFrame(rows)
        rows = [
            {"protocol": p, "direction": d, "similarity": s, **{k: m.get(k) for k in cols}}
            for p, by_direction in self.detail.items()
            for d, by_sim in by_direction.items()
            for s, m in by_sim.items()
        ]
        return pd.DataFrame(rows, columns=["protocol", "direction", "similarity", *cols])
