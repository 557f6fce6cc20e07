"""A training-free first ranking of candidate pairs from names and attribute values.

Used by the workbench while the model trains (it is ready in a second or two on the sample pair),
and as a baseline. Each entity gets two sparse TF-IDF vectors:

- ``name``: character 2-4-grams of its display name (``_`` read as a space, lower case);
- ``values``: the tokens of its numeric attribute values, each rounded to 3 significant digits,
  plus ``y<year>`` for values that read as a year (dates are parsed to fractional years by the
  readers, so ``1946-03-12`` and ``1946.2`` share ``y1946``).

The pair score is the cosine of the concatenation ``[√(1-w)·name, √w·values]`` (re-normalised, so
an entity without values is scored on its name alone):

    score(x, y) = cos([√(1-w)·n_x, √w·v_x], [√(1-w)·n_y, √w·v_y]),  w = ``value_weight``.

The returned table has the columns of :func:`mimea_core.candidates.suggest` (``score`` is this
cosine, not CSLS) plus ``sim_name`` and ``sim_values`` (NaN where either side has no values).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mimea_core.candidates import _pool, ranked_frame
from mimea_core.data.types import KnowledgeGraph, MMKGPair

#: Share of the score given to attribute values (chosen on the validation links of split seed 100).
VALUE_WEIGHT = 0.2


def _name_docs(kg: KnowledgeGraph) -> list[str]:
    return [(n if isinstance(n, str) else "").replace("_", " ") for n in kg.names]


def _value_docs(kg: KnowledgeGraph) -> list[str]:
    docs: list[list[str]] = [[] for _ in range(kg.num_entities)]
    for (entity, _), value in zip(kg.attr_triples.tolist(), kg.attr_numeric.tolist(), strict=False):
        if not np.isfinite(value):
            continue
        docs[entity].append(f"{value:.3g}")
        if 1000 <= value <= 2100:
            docs[entity].append(f"y{int(value)}")
    return [" ".join(d) for d in docs]


def lexical_vectors(pair: MMKGPair) -> dict[str, tuple[sp.csr_matrix, sp.csr_matrix]]:
    """``{"name": (N1, N2), "values": (V1, V2)}``: L2-normalised TF-IDF rows (fitted on both KGs)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    n1 = pair.kg1.num_entities
    out = {}
    for key, docs, vectorizer in (
        ("name", _name_docs, TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
        ("values", _value_docs, TfidfVectorizer(token_pattern=r"\S+", sublinear_tf=True, lowercase=False)),
    ):
        texts = docs(pair.kg1) + docs(pair.kg2)
        if not any(t.strip() for t in texts):
            X = sp.csr_matrix((len(texts), 1), dtype=np.float32)
        else:
            X = vectorizer.fit_transform(texts).astype(np.float32).tocsr()
        out[key] = (X[:n1], X[n1:])
    return out


def _joint(name: sp.csr_matrix, values: sp.csr_matrix, w: float) -> sp.csr_matrix:
    from sklearn.preprocessing import normalize

    return normalize(sp.hstack([name * np.sqrt(1 - w), values * np.sqrt(w)]).tocsr())


def _rowwise(A: sp.csr_matrix, B: sp.csr_matrix, src: np.ndarray, tgt: np.ndarray) -> np.ndarray:
    return np.asarray(A[src].multiply(B[tgt]).sum(axis=1)).ravel().astype(np.float64)


def lexical_suggest(
    pair: MMKGPair,
    top_k: int = 10,
    sources: Sequence[int] | np.ndarray | None = None,
    exclude_kg1: Sequence[int] | np.ndarray | None = None,
    exclude_kg2: Sequence[int] | np.ndarray | None = None,
    value_weight: float = VALUE_WEIGHT,
    chunk_size: int = 1024,
) -> pd.DataFrame:
    """Top-``top_k`` KG2 candidates per KG1 source by the lexical score (see the module docstring)."""
    if top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    n1, n2 = pair.kg1.num_entities, pair.kg2.num_entities
    vecs = lexical_vectors(pair)
    J1, J2 = (_joint(vecs["name"][s], vecs["values"][s], value_weight) for s in (0, 1))
    pool1, pool2 = _pool(n1, exclude_kg1, "exclude_kg1"), _pool(n2, exclude_kg2, "exclude_kg2")
    queries = pool1 if sources is None else np.asarray(sources, dtype=np.int64).reshape(-1)
    queries = queries[np.sort(np.unique(queries, return_index=True)[1])]
    cols = ["source", "target", "rank", "score", "margin", "mutual_nn", "one_to_one", "sim_name", "sim_values"]
    if len(queries) == 0 or len(pool2) == 0:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in cols})
    k = min(max(top_k, 2), len(pool2))
    T = J2[pool2].T.tocsc()
    best_of_target = np.full(len(pool2), -np.inf)
    for start in range(0, len(pool1), chunk_size):
        block = (J1[pool1[start : start + chunk_size]] @ T).toarray()
        best_of_target = np.maximum(best_of_target, block.max(axis=0))
    top_scores = np.empty((len(queries), k))
    top_pos = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), chunk_size):
        block = (J1[queries[start : start + chunk_size]] @ T).toarray()
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        top_pos[start : start + len(block)] = np.take_along_axis(part, order, axis=1)
        top_scores[start : start + len(block)] = np.take_along_axis(vals, order, axis=1)
    frame = ranked_frame(queries, pool2, top_scores, top_pos, best_of_target, top_k, (n1, n2))
    src, tgt = frame["source"].to_numpy(), frame["target"].to_numpy()
    frame["sim_name"] = _rowwise(*vecs["name"], src, tgt)
    has_values = (np.diff(vecs["values"][0].indptr)[src] > 0) & (np.diff(vecs["values"][1].indptr)[tgt] > 0)
    frame["sim_values"] = np.where(has_values, _rowwise(*vecs["values"], src, tgt), np.nan)
    return frame
