"""Curation: the decision store and the exports of accepted pairs."""

from mimea_core.curation.export import csv_text, ntriples_text, sssom_text
from mimea_core.curation.identifiers import curator_iri, entity_iri, escape_iri
from mimea_core.curation.store import DECISIONS, UNDECIDED, CurationError, DecisionStore, PairState

__all__ = [
    "DECISIONS",
    "UNDECIDED",
    "CurationError",
    "DecisionStore",
    "PairState",
    "csv_text",
    "curator_iri",
    "entity_iri",
    "escape_iri",
    "ntriples_text",
    "sssom_text",
]
