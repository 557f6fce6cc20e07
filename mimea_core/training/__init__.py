"""Training: the loop (:func:`fit`), the pipeline (:func:`train`), early stopping, progress, pseudo-seeding."""

from mimea_core.runs import RunResult
from mimea_core.training.loop import FitResult, fit
from mimea_core.training.pipeline import train
from mimea_core.training.progress import ProgressEvent, TqdmProgress

__all__ = ["FitResult", "ProgressEvent", "RunResult", "TqdmProgress", "fit", "train"]
