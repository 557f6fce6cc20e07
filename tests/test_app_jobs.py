"""Background training jobs (app/jobs.py): stopped and waited for, never left inside torch."""

from __future__ import annotations

import dataclasses

from tiny import FAST, make_tiny_pair, tiny_split

from app.jobs import JobRegistry


def test_stop_all_stops_running_jobs_and_waits_for_their_threads(tmp_path):
    pair = make_tiny_pair()
    registry = JobRegistry()
    config = dataclasses.replace(FAST, epochs=10_000, patience=10_000)  # would run for minutes
    job = registry.start("tiny", "long", pair, config, tmp_path / "run", split=tiny_split(pair))
    assert job.running
    registry.stop_all(timeout=60)
    assert not job._thread.is_alive()
    assert job.snapshot().status == "cancelled"
    assert job.snapshot().epoch < 10_000


def test_stop_all_without_jobs_returns_at_once():
    JobRegistry().stop_all(timeout=0)
