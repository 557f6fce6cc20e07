"""Progress reporting: the event type passed to ``progress`` callbacks, and a tqdm bar for the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressEvent:
    """One report from :func:`~mimea_core.training.train` (at least once per epoch)."""

    epoch: int
    max_epochs: int
    losses: dict[str, float] = field(default_factory=dict)
    valid_mrr: float | None = None
    elapsed_s: float = 0.0
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class TqdmProgress:
    """A progress bar over epochs showing the loss terms and the latest validation MRR."""

    def __init__(self, disable: bool = False) -> None:
        self._bar = None
        self._disable = disable
        self._last_mrr: float | None = None
        self._epoch = 0

    def __call__(self, event: ProgressEvent) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=event.max_epochs, unit="epoch", disable=self._disable, dynamic_ncols=True)
        if event.valid_mrr is not None:
            self._last_mrr = event.valid_mrr
        if event.epoch > self._epoch:
            self._bar.update(event.epoch - self._epoch)
            self._epoch = event.epoch
        post = {k: f"{v:.3f}" for k, v in event.losses.items()}
        if self._last_mrr is not None:
            post["valid_mrr"] = f"{self._last_mrr:.3f}"
        self._bar.set_postfix(post, refresh=False)
        if event.message:
            self._bar.write(event.message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
