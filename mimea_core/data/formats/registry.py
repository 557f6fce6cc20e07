"""Reader registries (plain dicts): a new format = one reader module + one entry here.

``PAIR_FORMATS``: folder layouts holding a whole pair, tried in order by
:func:`mimea_core.data.loader.plan_for` (after a ``pair.toml`` in the folder); each entry is
``detect(folder) -> PairPlan | None`` (None: not this layout; raise :class:`DataFormatError` for a
layout that is recognised but wrong).

``KG_FORMATS``: one-KG folder formats a ``*.toml`` pair description may name (``format = "..."``);
each entry gives the KG's input files (hashed for the cache) and its reader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mimea_core.data.builder import KGBuilder
from mimea_core.data.formats import idformat, mmkb, openke, tsv
from mimea_core.data.pair import PairPlan


@dataclass(frozen=True)
class KGFormat:
    files: Callable[[Path], list[Path]]  # the input files of a KG folder
    read: Callable[[Path, str | None], KGBuilder]  # (folder, name) -> parsed KG


PAIR_FORMATS: dict[str, Callable[[Path], PairPlan | None]] = {
    "mmkb": mmkb.detect_pair,
    "mmea/jape": idformat.detect_pair,
    "tsv": tsv.detect_pair,
    "openke": openke.detect_pair,  # one KG only: raises with how to pair two
}

KG_FORMATS: dict[str, KGFormat] = {
    "mmkb": KGFormat(lambda folder: list(mmkb.kg_files(folder).values()), mmkb.read_kg),
    "openke": KGFormat(openke.input_files, openke.read_kg),
    "tsv": KGFormat(tsv.kg_input_files, tsv.read_kg),
}
