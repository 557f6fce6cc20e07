"""Data layer: readers for the MMEA data formats, the pair type, splits and feature files.

``load_pair(PATH)`` takes a folder holding one pair or a ``*.toml`` pair description (see
``mimea_core/data/README.md`` for the formats); ``make_split`` splits the gold links.
"""

from mimea_core.data.loader import load_pair
from mimea_core.data.split import make_split
from mimea_core.data.types import KnowledgeGraph, MMKGPair, ModalityFeatures, Split

__all__ = ["KnowledgeGraph", "MMKGPair", "ModalityFeatures", "Split", "load_pair", "make_split"]
