"""One-to-one awareness for curation: clashing accepts, retired candidates, "no counterpart" decisions.

An alignment between two KGs is (mostly) one-to-one, so

- two accepted pairs that share a source or a target **clash** (:func:`one_to_one_clashes`): both
  are flagged until a curator rejects one (they are left out of exports meanwhile);
- once a pair is accepted, the other candidates of its source and of its target are **retired**
  from the undecided queue (:func:`retired_mask`), as are the candidates of a source decided to have
  **no counterpart** in KG2.

"No counterpart" is a decision about a source alone, so it lives in its own append-only table of
the decision store's SQLite file (:class:`NoMatchLog`): rows ``no_match`` or ``undecided`` (an undo),
the latest row per source wins.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimea_core.curation.store import DecisionStore, _now
from mimea_core.errors import CurationError

NO_MATCH = "no_match"
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS source_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source INTEGER NOT NULL CHECK (source >= 0),
    decision TEXT NOT NULL CHECK (decision IN ('no_match', 'undecided')),
    curator TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
)""",
    "CREATE TRIGGER IF NOT EXISTS source_decisions_no_update BEFORE UPDATE ON source_decisions"
    " BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS source_decisions_no_delete BEFORE DELETE ON source_decisions"
    " BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
)


class NoMatchLog:
    """"This KG1 entity has no counterpart in KG2" decisions, beside a :class:`DecisionStore`."""

    def __init__(self, store: DecisionStore) -> None:
        self.store = store
        with store._connect() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    def _append(self, source: int, decision: str, curator: str, note: str) -> int:
        s, _, curator, note = self.store._check(source, 0, curator, note)
        with self.store._connect() as conn:
            cur = conn.execute(
                "INSERT INTO source_decisions (source, decision, curator, note, created_at) VALUES (?, ?, ?, ?, ?)",
                (s, decision, curator, note, _now()),
            )
            return int(cur.lastrowid)

    def record(self, source: int, curator: str, note: str = "") -> int:
        """Record that ``source`` has no counterpart in KG2."""
        return self._append(source, NO_MATCH, curator, note)

    def undo(self, source: int, curator: str) -> int:
        if source not in self.sources():
            raise CurationError(f"entity {source} has no 'no counterpart' decision to undo")
        return self._append(source, "undecided", curator, "undo of no counterpart")

    def current(self) -> pd.DataFrame:
        """Latest row per source whose state is ``no_match``: source, curator, note, created_at."""
        with self.store._connect() as conn:
            rows = conn.execute(
                "SELECT source, decision, curator, note, created_at FROM source_decisions ORDER BY id"
            ).fetchall()
        latest = {r[0]: r for r in rows}
        keep = [r for r in latest.values() if r[1] == NO_MATCH]
        frame = pd.DataFrame(keep, columns=["source", "decision", "curator", "note", "created_at"])
        return frame.drop(columns="decision").astype({"source": "int64"})

    def sources(self) -> set[int]:
        return set(self.current()["source"].astype(int))


def _accepted(states: pd.DataFrame) -> pd.DataFrame:
    if not len(states):
        return states
    return states[(states["decision"] == "accept") & ~states["conflict"].astype(bool)]


def one_to_one_clashes(states: pd.DataFrame) -> pd.DataFrame:
    """Accepted pairs (from :meth:`DecisionStore.current_state`) sharing a source or a target with
    another accepted pair; column ``clash``: ``"source"``, ``"target"`` or ``"source and target"``."""
    acc = _accepted(states)
    if not len(acc):
        return acc.assign(clash=pd.Series(dtype=str))
    by_source = acc["source"].map(acc["source"].value_counts()) > 1
    by_target = acc["target"].map(acc["target"].value_counts()) > 1
    clash = np.where(by_source & by_target, "source and target", np.where(by_source, "source", "target"))
    return acc.assign(clash=clash)[by_source | by_target].reset_index(drop=True)


def accepted_elsewhere(states: pd.DataFrame, source: int, target: int) -> pd.DataFrame:
    """Accepted pairs other than (source, target) that use the same source or the same target."""
    acc = _accepted(states)
    if not len(acc):
        return acc
    same = (acc["source"] == source) ^ (acc["target"] == target)
    return acc[same].reset_index(drop=True)


def retired_mask(
    queue: pd.DataFrame, states: pd.DataFrame, no_match: set[int] | frozenset[int] = frozenset()
) -> np.ndarray:
    """True for queue rows that are no longer worth reviewing: another pair with the same source or
    target is accepted, or the source has no counterpart. (The accepted pairs themselves are not.)"""
    acc = _accepted(states)
    src = queue["source"].to_numpy(np.int64)
    tgt = queue["target"].to_numpy(np.int64)
    keys = set(zip(acc["source"].astype(int), acc["target"].astype(int), strict=True)) if len(acc) else set()
    own = np.array([(int(s), int(t)) in keys for s, t in zip(src, tgt, strict=True)], dtype=bool)
    taken = np.isin(src, acc["source"].to_numpy(np.int64)) | np.isin(tgt, acc["target"].to_numpy(np.int64))
    if not len(acc):
        taken = np.zeros(len(queue), dtype=bool)
    return (taken & ~own) | np.isin(src, np.fromiter(no_match, dtype=np.int64, count=len(no_match)))
