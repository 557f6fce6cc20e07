"""One-to-one awareness for curation: clashing accepts, retired candidates, "no counterpart" decisions.

An alignment between two KGs is (mostly) one-to-one, so

- two accepted pairs that share a source or a target **clash** (:func:`one_to_one_clashes`): both
  are flagged until a curator rejects one (they are left out of exports meanwhile);
- once a pair is accepted, the other candidates of its source and of its target are **retired**
  from the undecided queue (:func:`retired_mask`), as are the candidates of a source decided to have
  **no counterpart** in KG2.

"No counterpart" is a decision about a source alone; the decision store keeps it
(:meth:`~mimea_core.curation.store.DecisionStore.record_no_counterpart`,
:meth:`~mimea_core.curation.store.DecisionStore.no_counterpart_sources`); this module only reads
states.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def pair_keys(source, target) -> np.ndarray:
    """One int64 per (source, target) pair, for vectorised membership tests (ids < 2**31)."""
    return (np.asarray(source, dtype=np.int64) << 32) | np.asarray(target, dtype=np.int64)


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
    own = np.isin(pair_keys(src, tgt), pair_keys(acc["source"], acc["target"])) if len(acc) else np.zeros(len(queue), bool)
    taken = np.isin(src, acc["source"].to_numpy(np.int64)) | np.isin(tgt, acc["target"].to_numpy(np.int64))
    if not len(acc):
        taken = np.zeros(len(queue), dtype=bool)
    return (taken & ~own) | np.isin(src, np.fromiter(no_match, dtype=np.int64, count=len(no_match)))
