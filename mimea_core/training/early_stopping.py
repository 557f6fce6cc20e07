"""Early stopping on validation MRR, keeping the best model state (never selected on test)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn


@dataclass
class EarlyStopping:
    patience: int
    best_score: float = float("-inf")
    best_epoch: int = 0
    bad_evals: int = 0
    best_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    def update(self, score: float, epoch: int, model: nn.Module) -> bool:
        """Record a validation score; return True when it improves (the state is then copied)."""
        if score > self.best_score:
            self.best_score, self.best_epoch, self.bad_evals = score, epoch, 0
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return True
        self.bad_evals += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_evals >= self.patience

    def restore(self, model: nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
