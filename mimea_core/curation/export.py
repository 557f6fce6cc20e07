"""Exports of accepted pairs: SSSOM TSV, CSV and owl:sameAs N-Triples.

SSSOM (Simple Standard for Sharing Ontological Mappings, https://mapping-commons.github.io/sssom/)
TSV is a YAML metadata block, each line prefixed with ``#`` (``curie_map``, ``mapping_set_id``,
``license``, ...), followed by a table whose required columns are ``subject_id``,
``predicate_id``, ``object_id`` and ``mapping_justification``. Entity ids are CURIEs expanded by
``curie_map``; human curation is ``semapv:ManualMappingCuration``. ``confidence`` (optional) is
the model's calibrated probability that the pair is right (:mod:`mimea_core.calibration`) at the
time of export; rejected pairs may be exported as negative mappings (``predicate_modifier: Not``,
"the subject is *not* an exact match of the object").

Every writer writes to a temporary file beside the target and renames it, so a crash never leaves a
half-written export under the final name.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from mimea_core.curation.identifiers import PrefixMap, curator_iri, entity_iri
from mimea_core.fileio import atomic_write_text

if TYPE_CHECKING:
    from mimea_core.curation.store import DecisionStore, PairState
    from mimea_core.data.types import MMKGPair

SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"
PREDICATES = {"skos:exactMatch", "owl:sameAs"}
SSSOM_COLUMNS = [
    "subject_id",
    "subject_label",
    "predicate_modifier",
    "predicate_id",
    "object_id",
    "object_label",
    "mapping_justification",
    "confidence",
    "author_id",
    "author_label",
    "mapping_date",
    "comment",
]
BUILT_IN_PREFIXES = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "semapv": "https://w3id.org/semapv/vocab/",
}


def _one_line(text: str) -> str:
    """Table cells stay on one line: tabs and line breaks become spaces."""
    return " ".join(str(text).split())


def in_pair(states: Sequence[PairState], pair: MMKGPair) -> list[PairState]:
    """The states whose two entity ids exist in ``pair`` (a store may outlive a data version)."""
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    return [st for st in states if 0 <= st.source < n1 and 0 <= st.target < n2]


def _accepting_curators(state: PairState) -> list[str]:
    """The curators whose position is the pair's decision (accept, or reject for negatives)."""
    curators = [c for c, d in sorted(state.positions.items()) if d == state.decision]
    return curators or [state.curator]


def _date(created_at: str) -> str:
    return created_at[:10] if created_at else datetime.now(UTC).date().isoformat()


def _yaml_lines(header: dict) -> list[str]:
    """A flat-or-one-level-nested mapping as YAML; scalars are JSON strings (valid YAML scalars)."""
    lines = []
    for key, value in header.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines.extend(f"  {k}: {json.dumps(str(v), ensure_ascii=False)}" for k, v in value.items())
        else:
            lines.append(f"{key}: {json.dumps(str(value), ensure_ascii=False)}")
    return lines


def sssom_text(
    states: Sequence[PairState],
    pair: MMKGPair,
    *,
    rejected: Sequence[PairState] = (),
    confidence: Mapping[tuple[int, int], float] | None = None,
    **metadata: str,
) -> str:
    """The SSSOM TSV document (metadata header + table) for accepted pairs, and for ``rejected``
    pairs as negative mappings (``predicate_modifier: Not``).

    ``confidence``: (source, target) -> probability in [0, 1], written to the ``confidence`` column
    where known. ``metadata`` may override ``mapping_set_id``, ``license``,
    ``mapping_set_description`` and set ``predicate_id`` (``skos:exactMatch``, the default, or
    ``owl:sameAs``).
    """
    predicate = metadata.pop("predicate_id", "skos:exactMatch")
    if predicate not in PREDICATES:
        raise ValueError(f"predicate_id must be one of {sorted(PREDICATES)}, got {predicate!r}")
    prefixes = PrefixMap()
    rows = []
    confidence = confidence or {}
    marked = [(st, "") for st in in_pair(states, pair)] + [(st, "Not") for st in in_pair(rejected, pair)]
    for st, modifier in marked:
        curators = _accepting_curators(st)
        known = confidence.get((st.source, st.target))
        rows.append(
            {
                "subject_id": prefixes.compress(entity_iri(pair.kg1.entities[st.source], pair.kg1.name)),
                "subject_label": _one_line(pair.kg1.names[st.source]),
                "predicate_modifier": modifier,
                "confidence": "" if known is None else f"{min(max(float(known), 0.0), 1.0):.4f}",
                "predicate_id": predicate,
                "object_id": prefixes.compress(entity_iri(pair.kg2.entities[st.target], pair.kg2.name)),
                "object_label": _one_line(pair.kg2.names[st.target]),
                "mapping_justification": "semapv:ManualMappingCuration",
                "author_id": "|".join(prefixes.compress(curator_iri(c)) for c in curators),
                "author_label": "|".join(_one_line(c).replace("|", "/") for c in curators),
                "mapping_date": _date(st.created_at),
                "comment": _one_line(st.note),
            }
        )
    name = pair.name or "mapping"
    header = {
        "curie_map": {**BUILT_IN_PREFIXES, **prefixes.curie_map},
        "mapping_set_id": metadata.pop(
            "mapping_set_id", f"https://w3id.org/mimea/mappings/{quote(name, safe='')}.sssom.tsv"
        ),
        "mapping_set_description": metadata.pop(
            "mapping_set_description",
            f"Entity alignments between {pair.kg1.name} and {pair.kg2.name} accepted by curators "
            "in the MIMEA workbench",
        ),
        "license": metadata.pop("license", "https://creativecommons.org/publicdomain/zero/1.0/"),
        "mapping_tool": "mimea-workbench",
        "subject_source_version": pair.fingerprint or None,
        **metadata,
    }
    header = {k: v for k, v in header.items() if v is not None}
    out = io.StringIO()
    out.writelines(f"#{line}\n" for line in _yaml_lines(header))
    writer = csv.DictWriter(out, fieldnames=SSSOM_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def write_sssom(path: str | Path, states: Sequence[PairState], pair: MMKGPair, **metadata: str) -> Path:
    return atomic_write_text(path, sssom_text(states, pair, **metadata))


def csv_text(states: Sequence[PairState], pair: MMKGPair) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "source",
            "target",
            "source_id",
            "target_id",
            "source_iri",
            "target_iri",
            "source_name",
            "target_name",
            "curators",
            "date",
            "note",
        ]
    )
    for st in in_pair(states, pair):
        writer.writerow(
            [
                st.source,
                st.target,
                pair.kg1.entities[st.source],
                pair.kg2.entities[st.target],
                entity_iri(pair.kg1.entities[st.source], pair.kg1.name),
                entity_iri(pair.kg2.entities[st.target], pair.kg2.name),
                pair.kg1.names[st.source],
                pair.kg2.names[st.target],
                ";".join(_accepting_curators(st)),
                st.created_at,
                st.note,
            ]
        )
    return out.getvalue()


def write_csv(path: str | Path, states: Sequence[PairState], pair: MMKGPair) -> Path:
    return atomic_write_text(path, csv_text(states, pair))


def ntriples_text(states: Sequence[PairState], pair: MMKGPair) -> str:
    """One ``<kg1 entity> owl:sameAs <kg2 entity> .`` line per accepted pair (IRIs escaped)."""
    lines = [
        f"<{entity_iri(pair.kg1.entities[st.source], pair.kg1.name)}> <{SAME_AS}> "
        f"<{entity_iri(pair.kg2.entities[st.target], pair.kg2.name)}> .\n"
        for st in in_pair(states, pair)
    ]
    return "".join(lines)


def write_ntriples(path: str | Path, states: Sequence[PairState], pair: MMKGPair) -> Path:
    return atomic_write_text(path, ntriples_text(states, pair))


#: Export format -> (file writer, usual file suffix).
EXPORT_FORMATS = {
    "sssom": (write_sssom, ".sssom.tsv"),
    "csv": (write_csv, ".csv"),
    "ntriples": (write_ntriples, ".nt"),
}


def write_accepted(path: str | Path, store: DecisionStore, pair: MMKGPair, fmt: str = "sssom", **metadata: str) -> Path:
    """The store's accepted, conflict-free pairs written as ``fmt`` (a key of :data:`EXPORT_FORMATS`);
    ``metadata`` (SSSOM only) sets mapping-set fields such as ``predicate_id``."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    if fmt == "sssom":
        return write_sssom(path, store.accepted_states(), pair, **metadata)
    if metadata:
        raise ValueError(f"metadata fields are SSSOM only, not for {fmt!r}")
    return EXPORT_FORMATS[fmt][0](path, store.accepted_states(), pair)
