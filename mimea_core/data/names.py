"""Display names derived from entity identifiers."""

from __future__ import annotations

from urllib.parse import unquote


def name_from_identifier(identifier: str) -> str:
    """A readable name for an entity identifier that has no name in a names file.

    For a URI the name is the part after ``/resource/`` (DBpedia, YAGO), or else the last path
    segment (after ``/`` or ``#``), percent-decoded, with underscores as spaces:
    ``<http://dbpedia.org/resource/Victor_Miller_(writer)>`` -> ``Victor Miller (writer)``.
    Anything else (``/m/027rn``, ``Q42``) is returned unchanged.
    """
    text = identifier.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1]
    if "://" not in text:
        return text.replace("_", " ") if text != identifier.strip() else text
    if "/resource/" in text:
        tail = text.split("/resource/", 1)[1]
    else:
        tail = text.rstrip("/#")
        cut = max(tail.rfind("/"), tail.rfind("#"))
        tail = tail[cut + 1 :]
    if not tail:
        return text
    return unquote(tail).replace("_", " ")


def clean_name(raw: str) -> str:
    """A name from a names file: underscores as spaces (MMKB writes ``Gary_Rydstrom``), trimmed."""
    return raw.replace("_", " ").strip()
