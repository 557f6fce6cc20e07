"""Training: the loop, early stopping, checkpoints, progress callbacks, pseudo-seeding."""

from mimea_core.training.loop import RunResult, train
from mimea_core.training.progress import ProgressEvent, TqdmProgress

__all__ = ["ProgressEvent", "RunResult", "TqdmProgress", "train"]
