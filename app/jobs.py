"""Background training jobs: train in a thread while the page stays usable.

A job is shared by every browser session looking at the same dataset (one registry per server
process, kept by ``st.cache_resource``), so two curators never start the same default training
twice. The thread only writes to the job object under its lock; pages read snapshots.
"""

from __future__ import annotations

import atexit
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import MMKGPair, Split
from mimea_core.errors import MimeaError
from mimea_core.training import ProgressEvent


@dataclass
class JobSnapshot:
    label: str
    status: str  # running | done | cancelled | failed
    epoch: int
    max_epochs: int
    losses: dict[str, float]
    valid_mrr: float | None
    elapsed_s: float
    history: list[dict[str, Any]]
    message: str
    error: str
    run_dir: str | None
    started: float


@dataclass
class TrainingJob:
    """One training run in a daemon thread; ``cancel()`` asks it to stop after the current step."""

    label: str
    out_dir: Path
    status: str = "running"
    epoch: int = 0
    max_epochs: int = 0
    losses: dict[str, float] = field(default_factory=dict)
    valid_mrr: float | None = None
    elapsed_s: float = 0.0
    history: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""
    error: str = ""
    run_dir: str | None = None
    started: float = field(default_factory=time.time)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(
        self, pair: MMKGPair, config: MIMEAConfig, split: Split | None, extra_seeds: np.ndarray | None,
        init_state: dict | None = None,
    ) -> None:
        self.max_epochs = config.epochs
        self._thread = threading.Thread(
            target=self._run, args=(pair, config, split, extra_seeds, init_state), name=f"train-{self.label}",
            daemon=True,
        )  # fmt: skip
        self._thread.start()

    def _progress(self, event: ProgressEvent) -> None:
        with self._lock:
            self.epoch, self.max_epochs = event.epoch, event.max_epochs
            if event.losses:
                self.losses = dict(event.losses)
            if event.valid_mrr is not None:
                self.valid_mrr = event.valid_mrr
            self.elapsed_s = event.elapsed_s
            if event.message:
                self.message = event.message
            if event.losses:
                self.history.append({"epoch": event.epoch, "valid_mrr": event.valid_mrr, **event.losses})

    def _run(self, pair, config, split, extra_seeds, init_state=None) -> None:
        from mimea_core.training import train

        try:
            result = train(
                pair, config, split=split, extra_seeds=extra_seeds, out_dir=self.out_dir,
                progress=self._progress, should_stop=self._stop.is_set, init_state=init_state,
            )  # fmt: skip
            with self._lock:
                self.run_dir = str(result.run_dir) if result.run_dir else None
                self.status = "cancelled" if self._stop.is_set() else "done"
        except MimeaError as err:
            with self._lock:
                self.status, self.error = "failed", str(err)
        except Exception as err:  # a bug: keep the app alive, show the message, log the trace
            traceback.print_exc()
            with self._lock:
                self.status, self.error = "failed", f"training failed: {type(err).__name__}: {err}"

    def cancel(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self.status == "running"

    def snapshot(self) -> JobSnapshot:
        with self._lock:
            return JobSnapshot(
                self.label, self.status, self.epoch, self.max_epochs, dict(self.losses), self.valid_mrr,
                self.elapsed_s, list(self.history), self.message, self.error, self.run_dir, self.started,
            )  # fmt: skip

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


class JobRegistry:
    """The jobs of this server process, by dataset key (one running job per dataset).

    When the process exits, running jobs are asked to stop and waited for (:meth:`stop_all`): a
    daemon thread still inside torch while the interpreter tears down aborts the whole process
    ("terminate called without an active exception", exit status 134) and may leave a run folder
    half written.
    """

    def __init__(self) -> None:
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()
        atexit.register(self.stop_all)

    def stop_all(self, timeout: float = 60.0) -> None:
        """Ask every running job to stop after its current step, and wait up to ``timeout`` s in all."""
        with self._lock:
            jobs = [job for job in self._jobs.values() if job.running]
        for job in jobs:
            job.cancel()
        deadline = time.monotonic() + timeout
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))

    def get(self, key: str) -> TrainingJob | None:
        with self._lock:
            return self._jobs.get(key)

    def start(
        self,
        key: str,
        label: str,
        pair: MMKGPair,
        config: MIMEAConfig,
        out_dir: Path,
        split: Split | None = None,
        extra_seeds: np.ndarray | None = None,
        init_state: dict | None = None,
    ) -> TrainingJob:
        """Start a job unless one is already running for ``key`` (then that one is returned)."""
        with self._lock:
            current = self._jobs.get(key)
            if current is not None and current.running:
                return current
            job = TrainingJob(label=label, out_dir=out_dir)
            self._jobs[key] = job
        job.start(pair, config, split, extra_seeds, init_state)
        return job
