"""Curation: the decision store, the review queue and the exports of accepted pairs.

The one export door is :mod:`mimea_core.curation.export` (``*_text`` for downloads,
``write_*`` / :func:`write_accepted` for files); the store only records and folds decisions.
"""

from mimea_core.curation.export import (
    EXPORT_FORMATS,
    csv_text,
    ntriples_text,
    sssom_text,
    write_accepted,
    write_csv,
    write_ntriples,
    write_sssom,
)
from mimea_core.curation.identifiers import curator_iri, entity_iri, escape_iri
from mimea_core.curation.queue import ORDERINGS, filter_queue, next_undecided, order_queue, review_queue
from mimea_core.curation.store import DECISIONS, UNDECIDED, DecisionStore, PairState
from mimea_core.errors import CurationError

__all__ = [
    "DECISIONS",
    "EXPORT_FORMATS",
    "ORDERINGS",
    "UNDECIDED",
    "CurationError",
    "DecisionStore",
    "PairState",
    "csv_text",
    "curator_iri",
    "entity_iri",
    "escape_iri",
    "filter_queue",
    "next_undecided",
    "ntriples_text",
    "order_queue",
    "review_queue",
    "sssom_text",
    "write_accepted",
    "write_csv",
    "write_ntriples",
    "write_sssom",
]
