"""Decision store semantics (append-only, undo, conflicts) and the three exports."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import rdflib
from sssom.parsers import parse_sssom_table
from sssom.validators import validate

from mimea_core.curation import CurationError, DecisionStore, entity_iri, escape_iri, write_accepted
from mimea_core.data.types import KnowledgeGraph, MMKGPair
from mimea_core.errors import MimeaError


def _kg(name: str, entities: list[str], names: list[str]) -> KnowledgeGraph:
    return KnowledgeGraph(
        name=name, entities=entities, names=names, relations=["r"], triples=np.zeros((0, 3), np.int64)
    )


@pytest.fixture
def pair() -> MMKGPair:
    kg1 = _kg(
        "FB15K",
        ["/m/027rn", "/m/0x y", "/m/06cx9", "plain id|with pipe"],
        ["Dominican Republic", "<img src=x onerror=alert(1)>", "**bold**\tname", 'quote " name'],
    )
    kg2 = _kg(
        "DB15K",
        [
            "<http://dbpedia.org/resource/Dominican_Republic>",
            "http://dbpedia.org/resource/Victor_Miller_(writer)",
            'http://example.org/a b"c{d}',
            "http://dbpedia.org/resource/Caf\u00e9",
        ],
        ["Dominican Republic", "Victor Miller (writer)", "odd", "Caf\u00e9"],
    )
    return MMKGPair(name="FB15K-DB15K", kg1=kg1, kg2=kg2, links=np.array([[0, 0]], dtype=np.int64))


@pytest.fixture
def store(tmp_path) -> DecisionStore:
    return DecisionStore(tmp_path / "decisions.sqlite")


def test_record_and_log(store):
    first = store.record(0, 0, "accept", "alice", note="same capital")
    second = store.record(1, 2, "reject", "bob")
    assert second > first
    log = store.decisions()
    assert list(log["decision"]) == ["accept", "reject"]
    assert list(log["curator"]) == ["alice", "bob"]
    assert log.loc[0, "note"] == "same capital"
    assert log["created_at"].is_monotonic_increasing
    np.testing.assert_array_equal(store.accepted_pairs(), [[0, 0]])


@pytest.mark.parametrize(
    "args",
    [(0, 0, "maybe", "alice"), (-1, 0, "accept", "alice"), (0, 0, "accept", "  "), ("x", 0, "accept", "a")],
)
def test_bad_values_are_refused(store, args):
    with pytest.raises(CurationError):
        store.record(*args)
    assert store.decisions().empty


def test_history_is_append_only(store):
    store.record(0, 0, "accept", "alice")
    with sqlite3.connect(store.path) as conn:
        for statement in ("UPDATE decisions SET decision = 'reject'", "DELETE FROM decisions"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(statement)
    assert list(store.decisions()["decision"]) == ["accept"]


def test_store_is_wal_and_refuses_foreign_files(store, tmp_path):
    store.record(0, 0, "accept", "alice")
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(MimeaError, match="garbage.sqlite"):
        DecisionStore(garbage)
    DecisionStore(tmp_path / "ds.sqlite", dataset="abc")
    with pytest.raises(CurationError, match="belongs to dataset"):
        DecisionStore(tmp_path / "ds.sqlite", dataset="other")


def test_undo_appends_a_restoring_row(store):
    store.record(0, 0, "reject", "alice")
    store.record(0, 0, "accept", "alice")
    store.undo(0, 0, "alice")
    state = store.current_state()
    assert state.loc[0, "decision"] == "reject"
    log = store.decisions()
    assert len(log) == 3  # nothing rewritten
    assert log.loc[2, "undoes"] == log.loc[1, "id"]
    assert log.loc[2, "decision"] == "reject"  # the latest row holds the current state
    store.undo(0, 0, "alice")
    assert store.current_state().loc[0, "decision"] == "undecided"
    assert len(store.accepted_pairs()) == 0
    with pytest.raises(CurationError, match="nothing|no decision"):
        store.undo(0, 0, "alice")
    assert len(store.decisions()) == 4


def test_undo_by_one_curator_keeps_the_others(store):
    store.record(0, 0, "accept", "alice")
    store.record(0, 0, "skip", "bob")
    store.undo(0, 0, "bob")
    assert store.current_state().loc[0, "decision"] == "accept"
    np.testing.assert_array_equal(store.accepted_pairs(), [[0, 0]])
    with pytest.raises(CurationError):
        store.undo(0, 0, "carol")


def test_conflicts_are_flagged_and_left_out_of_exports(store, pair, tmp_path):
    store.record(0, 0, "accept", "alice")
    store.record(0, 0, "reject", "bob")
    store.record(1, 1, "accept", "alice")
    store.record(1, 1, "skip", "bob")  # skip takes no side: no conflict, the latest row rules
    conflicts = store.conflicts()
    assert list(zip(conflicts["source"], conflicts["target"], strict=True)) == [(0, 0)]
    assert "alice: accept" in conflicts.loc[0, "positions"] and "bob: reject" in conflicts.loc[0, "positions"]
    store.record(1, 1, "accept", "bob")
    np.testing.assert_array_equal(store.accepted_pairs(), [[1, 1]])
    nt = write_accepted(tmp_path / "out.nt", store, pair, "ntriples").read_text()
    assert "Dominican_Republic" not in nt and "Victor_Miller" in nt
    # alice changing her mind to reject resolves it; so does a resolution row
    store.record(0, 0, "reject", "alice")
    assert store.conflicts().empty
    store.record(0, 0, "accept", "alice")
    assert len(store.conflicts()) == 1
    store.resolve(0, 0, "accept", "carol", note="checked the sources")
    assert store.conflicts().empty
    np.testing.assert_array_equal(store.accepted_pairs(), [[0, 0], [1, 1]])


def test_entity_iris():
    assert entity_iri("/m/027rn") == "http://rdf.freebase.com/ns/m.027rn"
    assert entity_iri("<http://dbpedia.org/resource/X>") == "http://dbpedia.org/resource/X"
    assert escape_iri('http://e.org/a b"<>') == "http://e.org/a%20b%22%3C%3E"
    assert entity_iri("12 3", "my kg") == "https://w3id.org/mimea/entity/my%20kg/12%203"


def _decide_all(store: DecisionStore) -> None:
    for i in range(4):
        store.record(i, i, "accept", "alice" if i % 2 else "Bob Smith", note=f"note {i}\twith tab")
    store.record(3, 3, "accept", "0000-0002-1825-0097")  # an ORCID


def test_sssom_export_parses_and_validates(store, pair, tmp_path):
    _decide_all(store)
    path = write_accepted(tmp_path / "out.sssom.tsv", store, pair, "sssom")
    text = path.read_text()
    assert text.startswith("#curie_map:")
    msdf = parse_sssom_table(path)
    validate(msdf)  # JSON schema, prefix completeness, strict CURIEs: raises on any error
    df = msdf.df
    assert len(df) == 4
    assert set(df["predicate_id"]) == {"skos:exactMatch"}
    assert set(df["mapping_justification"]) == {"semapv:ManualMappingCuration"}
    by_label = dict(zip(df["subject_label"], df["object_label"], strict=True))
    assert by_label["<img src=x onerror=alert(1)>"] == "Victor Miller (writer)"
    assert by_label["**bold** name"] == "odd"
    assert msdf.converter.expand(df.loc[0, "subject_id"]) == "http://rdf.freebase.com/ns/m.027rn"
    assert msdf.converter.expand(df.loc[0, "object_id"]) == "http://dbpedia.org/resource/Dominican_Republic"
    assert msdf.metadata["license"].startswith("https://")
    assert msdf.metadata["mapping_set_id"]
    orcid_row = df[df["subject_label"] == 'quote " name'].iloc[0]
    assert msdf.converter.expand(orcid_row["object_id"]) == "http://dbpedia.org/resource/Caf%C3%A9"
    assert "orcid:0000-0002-1825-0097" in str(orcid_row["author_id"])


def test_sssom_owl_same_as_predicate(store, pair, tmp_path):
    _decide_all(store)
    msdf = parse_sssom_table(write_accepted(tmp_path / "o.tsv", store, pair, "sssom", predicate_id="owl:sameAs"))
    validate(msdf)
    assert set(msdf.df["predicate_id"]) == {"owl:sameAs"}


def test_ntriples_export_parses(store, pair, tmp_path):
    _decide_all(store)
    path = write_accepted(tmp_path / "out.nt", store, pair, "ntriples")
    graph = rdflib.Graph()
    graph.parse(path, format="nt")
    same_as = rdflib.OWL.sameAs
    triples = {(str(s), str(o)) for s, p, o in graph if p == same_as}
    assert len(graph) == 4
    assert ("http://rdf.freebase.com/ns/m.027rn", "http://dbpedia.org/resource/Dominican_Republic") in triples
    assert "http://rdf.freebase.com/ns/m.0x y" not in {s for s, _ in triples}
    assert any(o == "http://example.org/a%20b%22c%7Bd%7D" for _, o in triples)
    assert any(o == "http://dbpedia.org/resource/Caf\u00e9" for _, o in triples)


def test_csv_export(store, pair, tmp_path):
    import pandas as pd

    _decide_all(store)
    df = pd.read_csv(write_accepted(tmp_path / "out.csv", store, pair, "csv"))
    assert list(df["source"]) == [0, 1, 2, 3]
    assert df.loc[1, "source_name"] == "<img src=x onerror=alert(1)>"
    assert df.loc[0, "target_iri"] == "http://dbpedia.org/resource/Dominican_Republic"


# -- exactly once per user action (issue 11, defect 1) ---------------------------------------------
def test_an_action_delivered_twice_is_recorded_once(tmp_path):
    store = DecisionStore(tmp_path / "d.sqlite")
    first = store.record(3, 4, "reject", "ann", action_id="tok-1")
    again = store.record(3, 4, "reject", "ann", action_id="tok-1")  # e.g. the `r` key's second script run
    assert again == first
    other = store.record(5, 6, "reject", "ann", action_id="tok-2")
    assert other != first
    log = store.decisions()
    assert list(zip(log["source"], log["decision"], strict=True)) == [(3, "reject"), (5, "reject")]
    # without a token, every call is a new decision (the programmatic API is unchanged)
    store.record(3, 4, "accept", "ann")
    store.record(3, 4, "accept", "ann")
    assert len(store.decisions()) == 4


def test_an_action_token_is_never_reused_for_another_pair_or_decision(tmp_path):
    store = DecisionStore(tmp_path / "d.sqlite")
    store.record(1, 2, "accept", "ann", action_id="tok")
    with pytest.raises(CurationError, match="already recorded"):
        store.record(9, 9, "accept", "ann", action_id="tok")
    with pytest.raises(CurationError, match="already recorded"):
        store.record(1, 2, "reject", "ann", action_id="tok")
    with pytest.raises(CurationError, match="action id"):
        store.record(1, 2, "reject", "ann", action_id="")
    assert len(store.decisions()) == 1


def test_undo_and_resolve_with_a_token_happen_once(tmp_path):
    store = DecisionStore(tmp_path / "d.sqlite")
    store.record(1, 2, "accept", "ann")
    store.record(1, 2, "reject", "ann")
    u = store.undo(1, 2, "ann", action_id="undo-1")
    assert store.undo(1, 2, "ann", action_id="undo-1") == u  # the second delivery undoes nothing more
    assert store.current_state()["decision"].tolist() == ["accept"]
    store.record(1, 2, "reject", "bob")
    r = store.resolve(1, 2, "accept", "carol", action_id="res-1")
    assert store.resolve(1, 2, "accept", "carol", action_id="res-1") == r
    assert len(store.decisions()) == 5


def test_a_store_from_before_action_tokens_is_upgraded_in_place(tmp_path):
    """A store written by the first release (no action_id column) keeps its rows and gains tokens."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript(
        """CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source INTEGER NOT NULL CHECK (source >= 0), target INTEGER NOT NULL CHECK (target >= 0),
            decision TEXT NOT NULL, curator TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, undoes INTEGER REFERENCES decisions(id),
            resolution INTEGER NOT NULL DEFAULT 0);
        INSERT INTO decisions (source, target, decision, curator, note, created_at)
            VALUES (7, 8, 'accept', 'ann', 'kept', '2026-11-01T10:00:00.000000+00:00');"""
    )
    conn.commit()
    conn.close()
    store = DecisionStore(path)
    assert store.decisions()[["source", "target", "decision", "note"]].values.tolist() == [[7, 8, "accept", "kept"]]
    store.record(7, 9, "reject", "ann", action_id="t")
    store.record(7, 9, "reject", "ann", action_id="t")
    assert len(store.decisions()) == 2
    assert store.integrity_check() == "ok"


def test_no_counterpart_decisions_of_an_older_store_survive_the_upgrade(tmp_path):
    """Stores whose "no counterpart" table predates action tokens keep their rows and gain tokens."""
    path = tmp_path / "old-no-match.sqlite"
    DecisionStore(path).record(1, 2, "accept", "ann")
    conn = sqlite3.connect(path)
    conn.executescript(
        """DROP INDEX IF EXISTS source_decisions_action;
        DROP TRIGGER IF EXISTS source_decisions_no_update; DROP TRIGGER IF EXISTS source_decisions_no_delete;
        DROP TABLE IF EXISTS source_decisions;
        CREATE TABLE source_decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, source INTEGER NOT NULL CHECK (source >= 0),
            decision TEXT NOT NULL CHECK (decision IN ('no_match', 'undecided')), curator TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
        INSERT INTO source_decisions (source, decision, curator, note, created_at)
            VALUES (5, 'no_match', 'ann', 'not in DBpedia', '2026-11-01T10:00:00.000000+00:00');"""
    )
    conn.commit()
    conn.close()
    store = DecisionStore(path)
    assert store.no_counterpart_sources() == {5}
    assert store.no_counterparts()["note"].tolist() == ["not in DBpedia"]
    first = store.record_no_counterpart(6, "bob", action_id="n-1")
    assert store.record_no_counterpart(6, "bob", action_id="n-1") == first  # one row per action
    with pytest.raises(CurationError, match="refusing to reuse"):
        store.record_no_counterpart(7, "bob", action_id="n-1")
    assert store.no_counterpart_sources() == {5, 6}
    with sqlite3.connect(path) as raw, pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM source_decisions")
    assert len(store.decisions()) == 1 and store.integrity_check() == "ok"
