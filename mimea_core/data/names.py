"""Display names derived from entity identifiers."""

from __future__ import annotations

from urllib.parse import unquote


def name_from_identifier(identifier: str) -> str:
    """A readable name for an entity identifier that has no name in a names file.

    For a URI the name is the part after ``/resource/`` (DBpedia, YAGO), or else the last path
    segment (after ``/`` or ``#``), percent-decoded, with underscores as spaces:
    ``<http://dbpedia.org/resource/Victor_Miller_(writer)>`` -> ``Victor Miller (writer)``.
    A bracketed short name (``<Harry_S._Truman>``) loses its brackets and underscores. Anything
    else (``/m/027rn``, ``Q42``) is returned unchanged: it is an opaque id, not a name.
    """
    text = identifier.strip()
    bracketed = text.startswith("<") and text.endswith(">") and len(text) > 2
    if bracketed:
        text = text[1:-1]
    if "://" not in text:
        return unquote(text).replace("_", " ") if bracketed else text
    if "/resource/" in text:
        tail = text.split("/resource/", 1)[1]
    else:
        tail = text.rstrip("/#")
        tail = tail[max(tail.rfind("/"), tail.rfind("#")) + 1 :]
    return unquote(tail).replace("_", " ") if tail else text


def clean_name(raw: str) -> str:
    """A name from a names file: underscores as spaces (MMKB writes ``Gary_Rydstrom``), trimmed."""
    return raw.replace("_", " ").strip()
