"""The curators' decision store: an append-only SQLite log of accept / reject / skip decisions.

Why SQLite in WAL mode: several curators (browser sessions, processes) write at once; WAL lets
readers run beside one writer, ``busy_timeout`` makes writers queue instead of failing, and each
decision is one short transaction committed with ``synchronous=FULL``, so a decision whose
:meth:`DecisionStore.record` returned survives the app being killed the next instant.

History is never rewritten: triggers refuse ``UPDATE`` and ``DELETE``. State is derived by folding
the log per pair (rows in id order):

- a decision row pushes itself on the pair's stack of effective decisions;
- an undo row (``undoes = id``) removes the row it undoes from that stack, and records as its own
  ``decision`` the state it restores (the new top of the stack, or ``"undecided"``), so a pair's
  current state is always its latest row;
- a curator's *position* on a pair is their latest effective decision since the last resolution
  row; a pair is in **conflict** when one curator's position is ``accept`` and another's is
  ``reject`` (``skip`` takes no side). A resolution row (:meth:`DecisionStore.resolve`) settles it.

Conflicting pairs are left out of :meth:`DecisionStore.accepted_pairs` and every export.

**Exactly once per user action.** A user interface may deliver one action twice (Streamlit runs the
script again for a key that it also owns, a double click, a retried request). Every writer takes an
optional ``action_id``: a token the interface makes once per shown decision form. The column is
``UNIQUE``, and a second write with the same token returns the first row's id instead of appending
(and refuses it when the token was used for another pair or decision, which would be a bug).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mimea_core.errors import CurationError

if TYPE_CHECKING:
    pass

DECISIONS = ("accept", "reject", "skip")
UNDECIDED = "undecided"
NO_COUNTERPART = "no_match"  # a source decided to have no counterpart in KG2
MAX_NOTE_CHARS = 10_000
MAX_CURATOR_CHARS = 200
MAX_ACTION_CHARS = 200
BUSY_TIMEOUT_MS = 30_000

_SCHEMA = (
    f"""CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source INTEGER NOT NULL CHECK (source >= 0),
    target INTEGER NOT NULL CHECK (target >= 0),
    decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject', 'skip', '{UNDECIDED}')),
    curator TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    undoes INTEGER REFERENCES decisions(id),
    resolution INTEGER NOT NULL DEFAULT 0,
    action_id TEXT
)""",
    "CREATE INDEX IF NOT EXISTS decisions_pair ON decisions (source, target, id)",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions"
    " BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions"
    " BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
    # Decisions about a source alone ("no counterpart in KG2", or its undo): latest row per source wins.
    f"""CREATE TABLE IF NOT EXISTS source_decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source INTEGER NOT NULL CHECK (source >= 0),
    decision TEXT NOT NULL CHECK (decision IN ('{NO_COUNTERPART}', '{UNDECIDED}')),
    curator TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    action_id TEXT
)""",
    "CREATE TRIGGER IF NOT EXISTS source_decisions_no_update BEFORE UPDATE ON source_decisions"
    " BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS source_decisions_no_delete BEFORE DELETE ON source_decisions"
    " BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END",
)
# Made after _migrate has given older tables their action_id column.
_ACTION_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS decisions_action ON decisions (action_id) WHERE action_id IS NOT NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS source_decisions_action ON source_decisions (action_id)"
    " WHERE action_id IS NOT NULL",
)

_COLUMNS = ["id", "source", "target", "decision", "curator", "note", "created_at", "undoes", "resolution"]


@dataclass
class PairState:
    """The folded state of one pair (see the module docstring)."""

    source: int
    target: int
    decision: str = UNDECIDED
    curator: str = ""
    note: str = ""
    created_at: str = ""
    last_id: int = 0
    positions: dict[str, str] = field(default_factory=dict)
    effective: list[tuple] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        return {"accept", "reject"} <= set(self.positions.values())


def _fold(rows: list[tuple]) -> PairState:
    """Fold one pair's rows (``_COLUMNS`` order, ascending id) into its state."""
    state = PairState(source=int(rows[0][1]), target=int(rows[0][2]))
    for row in rows:
        if row[7] is not None:  # undo row
            state.effective = [r for r in state.effective if r[0] != row[7]]
        else:
            state.effective.append(row)
        state.last_id = int(row[0])
    if state.effective:
        top = state.effective[-1]
        state.decision, state.curator, state.note, state.created_at = top[3], top[4], top[5], top[6]
    last_resolution = max((i for i, r in enumerate(state.effective) if r[8]), default=0)
    for row in state.effective[last_resolution:]:
        state.positions[row[4]] = row[3]
    return state


def accepted_in(states: pd.DataFrame) -> np.ndarray:
    """int64 (k, 2): the accepted, conflict-free pairs of :meth:`DecisionStore.current_state` output
    (callers that already hold the states need not fold the log again)."""
    if not len(states):
        return np.zeros((0, 2), dtype=np.int64)
    keep = states[(states["decision"] == "accept") & ~states["conflict"].astype(bool)]
    return keep[["source", "target"]].to_numpy(dtype=np.int64).reshape(-1, 2)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a store written by an older version up to the current schema (columns only added):
    ``action_id`` came after the first release of both tables."""
    for table in ("decisions", "source_decisions"):
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if "action_id" not in columns:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN action_id TEXT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class DecisionStore:
    """Append-only decision log in one SQLite file (created on first use, parents included).

    Every method opens its own short-lived connection, so one store object may be shared by
    threads (Streamlit sessions) and several processes may use the same file at once.

    Args:
        path: the SQLite file.
        dataset: optional dataset fingerprint; a store made for another dataset is refused, since
            its entity ids would point at the wrong entities.
    """

    def __init__(self, path: str | Path, dataset: str | None = None) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._initialise(dataset)
        except sqlite3.DatabaseError as err:
            raise CurationError(f"{self.path}: not a usable decision store ({err})") from err

    # -- connections -------------------------------------------------------------------------
    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA synchronous = FULL")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction (reads and the append atomic w.r.t. other writers):
        committed when the block ends (nothing to commit when it only read), rolled back on error."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _initialise(self, dataset: str | None) -> None:
        for attempt in range(50):  # WAL switch needs a moment without other writers
            try:
                with self._connect() as conn:
                    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                    if str(mode).lower() != "wal":
                        raise CurationError(f"{self.path}: cannot switch the store to WAL mode")
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        for statement in _SCHEMA:
                            conn.execute(statement)
                        _migrate(conn)
                        for statement in _ACTION_INDEXES:
                            conn.execute(statement)
                        stored = conn.execute("SELECT value FROM meta WHERE key = 'dataset'").fetchone()
                        if dataset:
                            if stored is None:
                                conn.execute("INSERT INTO meta VALUES ('dataset', ?)", (dataset,))
                            elif stored[0] != dataset:
                                raise CurationError(
                                    f"{self.path}: this decision store belongs to dataset {stored[0]!r}, "
                                    f"not {dataset!r}; choose another store file"
                                )
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                return
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) or attempt == 49:
                    raise
                time.sleep(0.05)

    # -- writing -----------------------------------------------------------------------------
    @staticmethod
    def _check(source: int, target: int, curator: str, note: str) -> tuple[int, int, str, str]:
        try:
            s, t = int(source), int(target)
        except (TypeError, ValueError) as err:
            raise CurationError(f"entity ids must be integers, got {source!r}, {target!r}") from err
        if s < 0 or t < 0:
            raise CurationError(f"entity ids must be >= 0, got {s}, {t}")
        curator = str(curator).strip()
        if not curator:
            raise CurationError("a curator name is required (set it in the sidebar)")
        if len(curator) > MAX_CURATOR_CHARS:
            raise CurationError(f"curator name longer than {MAX_CURATOR_CHARS} characters")
        note = str(note or "")
        if len(note) > MAX_NOTE_CHARS:
            raise CurationError(f"note longer than {MAX_NOTE_CHARS} characters")
        return s, t, curator, note

    def record(
        self,
        source: int,
        target: int,
        decision: str,
        curator: str,
        note: str = "",
        *,
        action_id: str | None = None,
    ) -> int:
        """Append one decision (``accept``/``reject``/``skip``) and return its row id once committed.

        With ``action_id``, a repeated call for the same action returns the first row's id and
        appends nothing (see the module docstring).
        """
        if decision not in DECISIONS:
            raise CurationError(f"decision must be one of {', '.join(DECISIONS)}, got {decision!r}")
        return self._append(source, target, decision, curator, note, resolution=False, action_id=action_id)

    def resolve(
        self,
        source: int,
        target: int,
        decision: str,
        curator: str,
        note: str = "",
        *,
        action_id: str | None = None,
    ) -> int:
        """Settle a conflict: a decision row that supersedes every curator's earlier position."""
        if decision not in ("accept", "reject"):
            raise CurationError(f"a conflict is resolved by accept or reject, got {decision!r}")
        return self._append(source, target, decision, curator, note, resolution=True, action_id=action_id)

    @staticmethod
    def _check_action(action_id: str | None) -> str | None:
        if action_id is None:
            return None
        action_id = str(action_id)
        if not action_id or len(action_id) > MAX_ACTION_CHARS:
            raise CurationError(f"an action id must have 1 to {MAX_ACTION_CHARS} characters")
        return action_id

    @staticmethod
    def _replayed(conn: sqlite3.Connection, action_id: str | None, expected: tuple) -> int | None:
        """The id of the row already written for ``action_id``, or None when there is none.

        ``expected`` is (source, target, decision) of the write being attempted; a token already
        used for something else is refused rather than silently ignored.
        """
        if action_id is None:
            return None
        row = conn.execute(
            "SELECT id, source, target, decision, undoes FROM decisions WHERE action_id = ?", (action_id,)
        ).fetchone()
        if row is None:
            return None
        if tuple(row[1:3]) != tuple(expected[:2]) or (row[4] is None and row[3] != expected[2]):
            raise CurationError(
                f"action {action_id!r} was already recorded as {row[3]} on pair ({row[1]}, {row[2]});"
                " refusing to reuse it"
            )
        return int(row[0])

    def _append(self, source, target, decision, curator, note, *, resolution: bool, action_id=None) -> int:
        s, t, curator, note = self._check(source, target, curator, note)
        action_id = self._check_action(action_id)
        with self._write() as conn:  # look up the token + append atomically
            replayed = self._replayed(conn, action_id, (s, t, decision))
            if replayed is not None:
                return replayed
            cur = conn.execute(
                "INSERT INTO decisions"
                " (source, target, decision, curator, note, created_at, resolution, action_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s, t, decision, curator, note, _now(), int(resolution), action_id),
            )
            return int(cur.lastrowid)

    def undo(
        self, source: int, target: int, curator: str, note: str = "", *, action_id: str | None = None
    ) -> int:
        """Undo ``curator``'s latest effective decision on the pair by appending a restoring row.

        Returns the new row's id. Raises :class:`CurationError` when the curator has nothing to undo.
        With ``action_id``, a repeated call for the same action undoes nothing more.
        """
        s, t, curator, note = self._check(source, target, curator, note)
        action_id = self._check_action(action_id)
        with self._write() as conn:
            replayed = self._replayed(conn, action_id, (s, t, None))
            if replayed is not None:
                return replayed
            rows = conn.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM decisions WHERE source = ? AND target = ? ORDER BY id",
                (s, t),
            ).fetchall()
            effective = _fold(rows).effective if rows else []
            mine = [r for r in effective if r[4] == curator]
            if not mine:
                raise CurationError(f"{curator} has no decision on pair ({s}, {t}) to undo")
            undone = mine[-1]
            remaining = [r for r in effective if r[0] != undone[0]]
            restored = remaining[-1][3] if remaining else UNDECIDED
            cur = conn.execute(
                "INSERT INTO decisions (source, target, decision, curator, note, created_at, undoes,"
                " action_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (s, t, restored, curator, note or f"undo of #{undone[0]} ({undone[3]})", _now(), undone[0], action_id),
            )
            return int(cur.lastrowid)

    # -- decisions about a source alone ---------------------------------------------------------
    def record_no_counterpart(
        self, source: int, curator: str, note: str = "", *, action_id: str | None = None
    ) -> int:
        """Record that KG1 entity ``source`` has no counterpart in KG2 (its candidates retire)."""
        return self._append_source(source, NO_COUNTERPART, curator, note, action_id)

    def undo_no_counterpart(self, source: int, curator: str, *, action_id: str | None = None) -> int:
        """Withdraw a "no counterpart" decision (appends an ``undecided`` row)."""
        if int(source) not in self.no_counterpart_sources():
            raise CurationError(f"entity {source} has no 'no counterpart' decision to undo")
        return self._append_source(source, UNDECIDED, curator, "undo of no counterpart", action_id)

    def _append_source(self, source, decision, curator, note, action_id) -> int:
        s, _, curator, note = self._check(source, 0, curator, note)
        action_id = self._check_action(action_id)
        with self._write() as conn:
            if action_id is not None:
                row = conn.execute(
                    "SELECT id, source, decision FROM source_decisions WHERE action_id = ?", (action_id,)
                ).fetchone()
                if row is not None:
                    if (row[1], row[2]) != (s, decision):
                        raise CurationError(
                            f"action {action_id!r} was already recorded as {row[2]} on entity {row[1]};"
                            " refusing to reuse it"
                        )
                    return int(row[0])
            cur = conn.execute(
                "INSERT INTO source_decisions (source, decision, curator, note, created_at, action_id)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (s, decision, curator, note, _now(), action_id),
            )
            return int(cur.lastrowid)

    def no_counterparts(self) -> pd.DataFrame:
        """Sources whose latest source decision is "no counterpart": source, curator, note, created_at."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT source, decision, curator, note, created_at FROM source_decisions ORDER BY id"
            ).fetchall()
        latest = {r[0]: r for r in rows}
        keep = [r for r in latest.values() if r[1] == NO_COUNTERPART]
        frame = pd.DataFrame(keep, columns=["source", "decision", "curator", "note", "created_at"])
        return frame.drop(columns="decision").astype({"source": "int64"})

    def no_counterpart_sources(self) -> set[int]:
        return set(self.no_counterparts()["source"].astype(int))

    # -- reading -----------------------------------------------------------------------------
    def _rows(self) -> list[tuple]:
        with self._connect() as conn:
            return conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM decisions ORDER BY id").fetchall()

    def decisions(self) -> pd.DataFrame:
        """The whole log, oldest first: id, source, target, decision, curator, note, created_at,
        undoes (id of the undone row, or <NA>), resolution (bool)."""
        df = pd.DataFrame(self._rows(), columns=_COLUMNS)
        df["undoes"] = df["undoes"].astype("Int64")
        df["resolution"] = df["resolution"].astype(bool)
        df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
        return df

    def pair_states(self) -> list[PairState]:
        """Every decided pair's folded state, in order of first decision."""
        by_pair: dict[tuple[int, int], list[tuple]] = {}
        for row in self._rows():
            by_pair.setdefault((row[1], row[2]), []).append(row)
        return [_fold(rows) for rows in by_pair.values()]

    def current_state(self) -> pd.DataFrame:
        """One row per decided pair: source, target, decision (latest row's, may be ``undecided``
        after an undo), curator, note, created_at, conflict (bool), positions (``curator: decision``)."""
        records = [
            {
                "source": st.source,
                "target": st.target,
                "decision": st.decision,
                "curator": st.curator,
                "note": st.note,
                "created_at": st.created_at,
                "conflict": st.conflict,
                "positions": "; ".join(f"{c}: {d}" for c, d in sorted(st.positions.items())),
            }
            for st in self.pair_states()
        ]
        df = pd.DataFrame(
            records,
            columns=[
                "source",
                "target",
                "decision",
                "curator",
                "note",
                "created_at",
                "conflict",
                "positions",
            ],
        )
        df["created_at"] = pd.to_datetime(df["created_at"], utc=True, format="ISO8601")
        return df.astype({"source": "int64", "target": "int64", "conflict": bool})

    def conflicts(self) -> pd.DataFrame:
        """Pairs on which one curator's latest decision is accept and another's reject."""
        state = self.current_state()
        return state[state["conflict"]].reset_index(drop=True)

    def accepted_pairs(self) -> np.ndarray:
        """int64 (k, 2) of pairs whose current state is accept and which are not in conflict."""
        return accepted_in(self.current_state())

    def accepted_states(self) -> list[PairState]:
        """Like :meth:`accepted_pairs`, with curators, notes and times (for exports)."""
        return [st for st in self.pair_states() if st.decision == "accept" and not st.conflict]

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` result (``"ok"`` when the file is sound)."""
        with self._connect() as conn:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
