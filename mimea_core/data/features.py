"""Loading given feature matrices (e.g. visual features) for one KG, with a presence mask.

Two file kinds, any dimension, any subset of the entities:

- ``.npy`` (loaded with ``allow_pickle=False``) plus an id list (text, one entity identifier per
  line, line i = row i). Without an id list the matrix must have one row per entity, in entity order.
- a pickle of ``{identifier or int id: vector}`` — only with ``allow_pickle=True``, i.e. from a local
  path the user named explicitly (a pickle can run code when loaded).

Rows for identifiers the KG does not have are ignored (counted in a warning); entities without a
row get ``mask = False`` and a zero row. NaN/inf values and rows of the wrong length are errors.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from mimea_core.data.pair import FeatureSpec
from mimea_core.data.textio import data_lines, read_lines
from mimea_core.data.types import KnowledgeGraph, ModalityFeatures
from mimea_core.errors import DataFormatError

PICKLE_SUFFIXES = (".pkl", ".pickle")


def load_features(
    spec: FeatureSpec, kg: KnowledgeGraph, allow_pickle: bool = False
) -> tuple[ModalityFeatures, list[str]]:
    """``(features, warnings)`` for ``kg`` from the file in ``spec``."""
    path = Path(spec.path)
    if not path.is_file():
        raise DataFormatError(
            path, None, "feature file not found; expected a .npy matrix or a {id: vector} pickle"
        )
    if path.suffix.lower() in PICKLE_SUFFIXES:
        if not allow_pickle:
            raise DataFormatError(
                path,
                None,
                "pickle feature files load only when allowed explicitly (allow_pickle=True / --allow-pickle); "
                "expected a .npy matrix with an id list otherwise",
            )
        keys, rows = _read_pickle(path)
    else:
        keys, rows = _read_npy(path, spec.ids, kg)
    return _place(path, keys, rows, kg, spec.id_map)


def _read_npy(path: Path, ids: Path | None, kg: KnowledgeGraph) -> tuple[list, np.ndarray]:
    try:
        matrix = np.load(path, allow_pickle=False)
    except Exception as err:  # noqa: BLE001 - numpy raises many types for a broken file; all mean "bad file"
        raise DataFormatError(
            path, None, f"not a readable .npy matrix ({type(err).__name__}); expected a 2-d float array"
        ) from None
    if not isinstance(matrix, np.ndarray):
        raise DataFormatError(path, None, "expected a single .npy matrix, found an .npz archive")
    real = np.issubdtype(matrix.dtype, np.floating) or np.issubdtype(matrix.dtype, np.integer)
    if matrix.ndim != 2 or not real or matrix.shape[1] == 0:
        raise DataFormatError(
            path,
            None,
            f"expected a 2-d array of real numbers with at least one column, found shape {matrix.shape} of {matrix.dtype}",
        )
    if ids is None:
        if len(matrix) != kg.num_entities:
            raise DataFormatError(
                path,
                None,
                f"{len(matrix)} rows but {kg.name} has {kg.num_entities} entities; expected one row per "
                "entity, or an id list (<name>_ids.txt)",
            )
        return list(range(kg.num_entities)), matrix
    keys = []
    seen: dict[str, int] = {}
    for lineno, line in data_lines(read_lines(ids, "entity identifiers, one per line")):
        key = line.strip()
        if key in seen:
            raise DataFormatError(
                ids, lineno, f"id {key!r} listed twice (also line {seen[key]}); expected one row per entity"
            )
        seen[key] = lineno
        keys.append(key)
    if len(keys) != len(matrix):
        raise DataFormatError(
            ids, None, f"{len(keys)} ids but {path.name} has {len(matrix)} rows; expected one id per row"
        )
    return keys, matrix


def _read_pickle(path: Path) -> tuple[list, np.ndarray]:
    try:
        with open(path, "rb") as handle:
            data = pickle.load(handle)  # noqa: S301 - only from a path the user named, with allow_pickle
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a format error for the user
        raise DataFormatError(
            path, None, f"not a readable pickle ({type(err).__name__}); expected {{id: vector}}"
        ) from None
    if not isinstance(data, dict) or not data:
        raise DataFormatError(
            path, None, f"expected a non-empty dict {{id: vector}}, found {type(data).__name__}"
        )
    keys = list(data)
    dims = set()
    vectors = []
    for key in keys:
        try:
            vec = np.asarray(data[key], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError, OverflowError):
            raise DataFormatError(path, None, f"entry {key!r}: expected a numeric vector") from None
        if len(vec) == 0:
            raise DataFormatError(path, None, f"entry {key!r} is an empty vector; expected numbers")
        dims.add(len(vec))
        if len(dims) > 1:
            raise DataFormatError(
                path,
                None,
                f"entry {key!r} has length {len(vec)}, others {min(dims - {len(vec)})}; expected one dimension",
            )
        vectors.append(vec)
    return keys, np.stack(vectors)


def _place(
    path: Path, keys: list, rows: np.ndarray, kg: KnowledgeGraph, id_map: dict[int, int] | None
) -> tuple[ModalityFeatures, list[str]]:
    bad = ~np.isfinite(rows).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(
            path, None, f"entry {keys[i]!r} (row {i}) has NaN or infinite values; expected finite numbers"
        )
    index = kg.entity_index()
    matrix = np.zeros((kg.num_entities, rows.shape[1]), dtype=np.float32)
    mask = np.zeros(kg.num_entities, dtype=bool)
    unknown = 0
    for key, row in zip(keys, rows, strict=True):
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            local = id_map.get(int(key)) if id_map is not None else int(key)
            local = local if local is not None and 0 <= local < kg.num_entities else None
        else:
            local = index.get(str(key))
        if local is None:
            unknown += 1
            continue
        matrix[local] = row
        mask[local] = True
    if not mask.any():
        raise DataFormatError(
            path, None, f"no row names a {kg.name} entity; expected ids like {kg.entities[0]!r}"
        )
    warnings = (
        [f"{path}: {unknown:,} feature rows name no {kg.name} entity and were ignored"] if unknown else []
    )
    return ModalityFeatures(matrix=matrix, mask=mask, source=str(path)), warnings
