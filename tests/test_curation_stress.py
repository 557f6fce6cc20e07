"""Issue 7 stress test: 8 processes record 500 decisions each at once; one is SIGKILLed mid-run.

Every decision whose ``record`` returned (each worker appends the returned id to its own log after
the call returns) must be in the store afterwards, the file must pass ``PRAGMA integrity_check``,
the store must open again, and the app must open it. Run with ``-s`` to see the figures.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest
from apprun import HOME, SAMPLE_PAIR

from mimea_core.curation import DecisionStore

WORKERS = 8
PER_WORKER = 500
VICTIM = 3


def _worker(db: str, log: str, worker: int) -> None:
    store = DecisionStore(db)
    with open(log, "a", buffering=1) as handle:  # line-buffered: each id reaches the kernel at once
        for i in range(PER_WORKER):
            decision = ("accept", "reject", "skip")[i % 3]
            row_id = store.record(
                worker * PER_WORKER + i, i, decision, f"curator{worker}", note=f"w{worker}#{i}"
            )
            handle.write(f"{row_id}\t{worker * PER_WORKER + i}\t{i}\t{decision}\n")
            if worker == VICTIM and i == PER_WORKER // 5:
                Path(log + ".ready").touch()


@pytest.fixture(scope="module")
def stressed(tmp_path_factory) -> tuple[Path, dict[int, tuple], dict]:
    """Run the stress once: (database, {returned id: (source, target, decision, curator)}, figures)."""
    tmp_path = tmp_path_factory.mktemp("stress")
    db = str(tmp_path / "decisions.sqlite")
    DecisionStore(db)  # create the schema once, as the app does on start
    ctx = mp.get_context("fork")
    logs = [str(tmp_path / f"worker{w}.log") for w in range(WORKERS)]
    procs = [ctx.Process(target=_worker, args=(db, logs[w], w)) for w in range(WORKERS)]
    start = time.perf_counter()
    for proc in procs:
        proc.start()
    ready = Path(logs[VICTIM] + ".ready")
    while not ready.exists() and procs[VICTIM].is_alive():
        time.sleep(0.005)
    os.kill(procs[VICTIM].pid, signal.SIGKILL)
    for proc in procs:
        proc.join(timeout=120)
    figures = {
        "elapsed_s": time.perf_counter() - start,
        "exitcodes": [p.exitcode for p in procs],
    }
    returned: dict[int, tuple] = {}
    for w, log in enumerate(logs):
        for line in Path(log).read_text().splitlines():
            row_id, source, target, decision = line.split("\t")
            returned[int(row_id)] = (int(source), int(target), decision, f"curator{w}")
    return Path(db), returned, figures


def test_concurrent_writers_survive_a_sigkill(stressed):
    db, returned, figures = stressed
    assert figures["exitcodes"][VICTIM] == -signal.SIGKILL
    assert all(code == 0 for i, code in enumerate(figures["exitcodes"]) if i != VICTIM)
    store = DecisionStore(db)  # the store opens again after the kill
    assert store.integrity_check() == "ok"
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    log = store.decisions().set_index("id")
    stored = {int(i): (int(r.source), int(r.target), r.decision, r.curator) for i, r in log.iterrows()}
    lost = [i for i, row in returned.items() if stored.get(i) != row]
    victim_done = sum(1 for v in returned.values() if v[3] == f"curator{VICTIM}")
    print(
        f"\nstress: {WORKERS} writers x {PER_WORKER}, worker {VICTIM} SIGKILLed after {victim_done} returned "
        f"records; returned={len(returned)} stored={len(stored)} lost={len(lost)} "
        f"integrity_check=ok elapsed={figures['elapsed_s']:.1f}s"
    )
    assert not lost
    assert len(returned) >= (WORKERS - 1) * PER_WORKER + PER_WORKER // 5
    # the store works after the kill: a new decision goes in and the state folds
    store.record(0, 0, "accept", "after-crash")
    assert len(store.current_state()) == len({(s, t) for s, t, _, _ in stored.values()} | {(0, 0)})


def test_the_app_opens_the_stressed_store(stressed, app_dir):
    from streamlit.testing.v1 import AppTest

    from app import state
    from mimea_core.data import load_pair

    db, returned, _ = stressed
    target = state.store_path(load_pair(str(SAMPLE_PAIR)))
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(db) as src, sqlite3.connect(target) as dst:
        src.backup(dst)  # a consistent copy, WAL included
    at = AppTest.from_file(str(HOME), default_timeout=120)
    at.session_state[state.CURATOR] = "tester"
    at.run()
    at.switch_page("views/decisions.py").run()
    assert not at.exception
    recorded = {m.label: m.value for m in at.metric}["Decisions recorded"]
    assert int(recorded.replace(",", "")) >= len(returned)
