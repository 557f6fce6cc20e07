"""Splitting data lines into fields, for the line forms found in real files.

Triple files come tab-separated (``h<TAB>r<TAB>t``) or N-Triples-like (``<h> <r> <t> .``); id
files use a tab or a single space before the id (``/m/x<TAB>0``, ``<uri> 0``), so they are split on
the last run of whitespace.
"""

from __future__ import annotations

import re
from pathlib import Path

from mimea_core.errors import DataFormatError

_TOKEN = re.compile(r'<[^>]*>|"(?:[^"\\]|\\.)*"(?:\^\^<[^>]*>|\^\^\S+|@[\w-]+)?|\S+')


def triple_fields(line: str) -> list[str]:
    """Fields of a triple-like line, without the N-Triples end ``.``."""
    if "\t" in line:
        parts = line.split("\t")
        last = parts[-1].rstrip()
        if last == ".":
            parts.pop()
        elif last.endswith(" .") and len(parts) >= 3:
            parts[-1] = last[:-2].rstrip()
        return [p.strip() for p in parts]
    parts = _TOKEN.findall(line)
    if parts and parts[-1] == ".":
        parts.pop()
    return parts


def expect_fields(path: Path, lineno: int, fields: list[str], count: int, what: str) -> list[str]:
    if len(fields) != count or not all(fields):
        raise DataFormatError(
            path, lineno, f"expected {count} fields ({what}), found {len([f for f in fields if f])}"
        )
    return fields


def split_last(path: Path, lineno: int, line: str, what: str) -> tuple[str, str]:
    """``(text, last field)`` split on the last run of whitespace (id files)."""
    parts = line.strip().rsplit(None, 1)
    if len(parts) != 2:
        raise DataFormatError(path, lineno, f"expected 2 fields ({what}), found {len(parts)}")
    return parts[0], parts[1]


def split_first(path: Path, lineno: int, line: str, what: str) -> tuple[str, str]:
    """``(first field, rest)``: on the first tab if there is one, else on the first run of whitespace."""
    if "\t" in line:
        key, _, rest = line.partition("\t")
    else:
        parts = line.strip().split(None, 1)
        key, rest = (parts[0], parts[1]) if len(parts) == 2 else (parts[0], "")
    key, rest = key.strip(), rest.strip()
    if not key or not rest:
        raise DataFormatError(path, lineno, f"expected 2 fields ({what}), found 1")
    return key, rest


def parse_int(path: Path, lineno: int, text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise DataFormatError(path, lineno, f"expected an integer {what}, found {text[:80]!r}") from None
