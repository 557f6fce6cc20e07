"""Entity identifiers -> IRIs and CURIEs for exports.

Knowledge graphs name entities in several ways: Freebase machine ids (``/m/027rn``), full URIs
(``http://dbpedia.org/resource/Victor_Miller_(writer)``, sometimes in angle brackets), or bare
strings from a user's own files. Exports need proper IRIs (N-Triples) and CURIEs with a prefix map
(SSSOM):

- ``/m/027rn`` -> ``http://rdf.freebase.com/ns/m.027rn`` (Freebase's RDF dump convention; any
  ``/x/y`` Freebase-style path becomes ``ns/x.y``);
- an absolute IRI is kept, with the characters N-Triples forbids inside ``<...>`` (space, control
  characters, ``<>"{}|^`\\``) percent-encoded as UTF-8;
- anything else becomes ``https://w3id.org/mimea/entity/<kg>/<percent-encoded id>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote

FREEBASE_NS = "http://rdf.freebase.com/ns/"
FALLBACK_NS = "https://w3id.org/mimea/entity/"
CURATOR_NS = "https://w3id.org/mimea/curator/"

#: Well-known namespaces, used before inventing ``ns1``, ``ns2``, ... prefixes.
KNOWN_PREFIXES: dict[str, str] = {
    "fb": FREEBASE_NS,
    "dbr": "http://dbpedia.org/resource/",
    "yago": "http://yago-knowledge.org/resource/",
    "wd": "http://www.wikidata.org/entity/",
    "orcid": "https://orcid.org/",
    "curator": CURATOR_NS,
}

_FREEBASE_PATH = re.compile(r"/([a-z]+)/([0-9A-Za-z_]+)")
_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S")
_FORBIDDEN_IN_IRIREF = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')
_NOT_CURIE_SAFE = re.compile(r"[^\x21-\x7e]|%(?![0-9A-Fa-f]{2})")


def escape_iri(iri: str) -> str:
    """Percent-encode (UTF-8) every character that may not appear inside an N-Triples ``<IRI>``."""
    return _FORBIDDEN_IN_IRIREF.sub(lambda m: quote(m.group(0), safe=""), iri)


def curie_local(local: str) -> str:
    """A CURIE local part that SSSOM validators accept: non-ASCII characters and stray ``%``
    percent-encoded (the expanded CURIE is then the URI form of the same IRI, RFC 3987 sec. 3.1)."""
    return _NOT_CURIE_SAFE.sub(lambda m: quote(m.group(0), safe=""), local)


def entity_iri(identifier: str, kg_name: str = "kg") -> str:
    """The IRI of an entity identifier (see the module docstring for the rules)."""
    text = identifier.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    match = _FREEBASE_PATH.fullmatch(text)
    if match:
        return f"{FREEBASE_NS}{match.group(1)}.{match.group(2)}"
    if _ABSOLUTE_IRI.match(text) and ("://" in text or text.startswith(("urn:", "mailto:"))):
        return escape_iri(text)
    return f"{FALLBACK_NS}{quote(kg_name, safe='')}/{quote(text, safe='')}"


def curator_iri(curator: str) -> str:
    """An IRI for a curator: their ORCID when they gave one, else a w3id name under the project."""
    text = curator.strip()
    if re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", text):
        return KNOWN_PREFIXES["orcid"] + text
    return CURATOR_NS + quote(text, safe="")


@dataclass
class PrefixMap:
    """Compresses IRIs to CURIEs, adding a prefix for every new namespace it meets.

    The namespace of an unknown IRI is everything up to its last ``/`` or ``#``; such namespaces get
    prefixes ``ns1``, ``ns2``, ... . ``curie_map`` holds only the prefixes actually used.
    """

    known: dict[str, str] = field(default_factory=lambda: dict(KNOWN_PREFIXES))
    used: dict[str, str] = field(default_factory=dict)

    def compress(self, iri: str) -> str:
        for prefix, namespace in self.known.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                self.used[prefix] = namespace
                return f"{prefix}:{curie_local(iri[len(namespace) :])}"
        cut = max(iri.rfind("/"), iri.rfind("#"))
        namespace = iri[: cut + 1] if cut > 0 and cut + 1 < len(iri) else iri
        if namespace == iri:  # nothing after the last separator: the whole IRI is the namespace
            namespace = iri[:-1]
        prefix = f"ns{sum(p.startswith('ns') for p in self.known) + 1}"
        while prefix in self.known:
            prefix += "x"
        self.known[prefix] = namespace
        return self.compress(iri)

    @property
    def curie_map(self) -> dict[str, str]:
        return dict(sorted(self.used.items()))
