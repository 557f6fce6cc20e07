"""Value modality: attribute values compared across the two graphs through shared value tokens.

The attribute modality keeps each KG's attributes apart (``birthDate`` and
``people.person.date_of_birth`` are different columns), so it learns from seeds only. Values,
however, can be compared without any seed once they are normalised: a birth year, a population or a
coordinate that agree in both graphs are label-free evidence of a match.

Every finite numeric value ``v`` (dates are already fractional years in ``attr_numeric``) gives
tokens shared by both KGs:

- ``sig3`` / ``sig4``: sign and the first 3 / 4 significant digits, *ignoring the exponent*, so unit
  changes by powers of ten still agree (an area of 31.79 km² and 31 786 924 m² both give ``3179``);
- ``year``: ``floor(v)`` when ``1000 <= v <= 2100`` (a year or a date in either graph).

An entity's row is the bag of its tokens weighted by ``idf = log(1 + N / df)`` (``df``: entities of
both KGs holding the token; tokens seen in only one KG are dropped: they cannot match), then
L2-normalised. The encoder is one linear map shared by both KGs (a token has one embedding), so at
initialisation ``cos(x_i W, x_j W) ≈ cos(x_i, x_j)`` already ranks value-sharing entities together.
"""

from __future__ import annotations

import numpy as np
import torch

from mimea_core.config import MIMEAConfig
from mimea_core.data.types import KnowledgeGraph, MMKGPair
from mimea_core.model.inputs import ModelInputs, SparseRows, Vocab
from mimea_core.model.layers import MaskedLinearEncoder

_KIND = 10**8


def _significant(v: np.ndarray, digits: int) -> np.ndarray:
    """Signed integer code of the first ``digits`` significant digits of ``v`` (0 for 0)."""
    a = np.abs(v)
    out = np.zeros(len(v), dtype=np.int64)
    nz = a > 0
    e = np.floor(np.log10(a[nz]))
    m = np.rint(a[nz] / 10.0 ** (e - digits + 1)).astype(np.int64)
    m = np.where(m >= 10**digits, m // 10, m)  # 9.995 rounds up to 1000 -> 100
    out[nz] = np.where(v[nz] < 0, 10**digits + m, m)
    return out


def value_tokens(kg: KnowledgeGraph) -> tuple[np.ndarray, np.ndarray]:
    """``(entity, token code)`` pairs (unique) of one KG's numeric attribute values."""
    if len(kg.attr_triples) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    v = np.asarray(kg.attr_numeric, dtype=np.float64)
    ok = np.isfinite(v)
    ent, v = kg.attr_triples[ok, 0].astype(np.int64), v[ok]
    ents = [ent, ent]
    toks = [1 * _KIND + _significant(v, 3), 2 * _KIND + _significant(v, 4)]
    year = (v >= 1000) & (v <= 2100)
    ents.append(ent[year])
    toks.append(3 * _KIND + np.floor(v[year]).astype(np.int64))
    pairs = np.unique(np.stack([np.concatenate(ents), np.concatenate(toks)], 1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def value_bag(pair: MMKGPair) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """COO ``(rows, cols, vals, num_tokens)`` of the idf-weighted shared-token bags (global rows)."""
    n1 = pair.kg1.num_entities
    e1, t1 = value_tokens(pair.kg1)
    e2, t2 = value_tokens(pair.kg2)
    shared = np.intersect1d(t1, t2)
    if len(shared) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), 0
    rows = np.concatenate([e1[np.isin(t1, shared)], e2[np.isin(t2, shared)] + n1])
    toks = np.concatenate([t1[np.isin(t1, shared)], t2[np.isin(t2, shared)]])
    cols = np.searchsorted(shared, toks)
    df = np.bincount(cols, minlength=len(shared)).astype(np.float64)
    n = pair.kg1.num_entities + pair.kg2.num_entities
    vals = np.log1p(n / df)[cols]
    norms = np.zeros(n)
    np.add.at(norms, rows, vals**2)
    vals = vals / np.sqrt(norms[rows])
    return rows, cols.astype(np.int64), vals.astype(np.float32), len(shared)


def value_inputs(pair: MMKGPair, device: torch.device | str) -> tuple[SparseRows, torch.Tensor]:
    """The value bag as :class:`SparseRows` (N, tokens) and its presence mask (N,)."""
    n = pair.kg1.num_entities + pair.kg2.num_entities
    rows, cols, vals, k = value_bag(pair)
    present = np.zeros(n, dtype=bool)
    present[rows] = True
    return SparseRows.from_coo(rows, cols, vals, (n, max(k, 1)), device), torch.as_tensor(
        present, device=device
    )


class ValueEncoder(MaskedLinearEncoder):
    """Token bag -> ``dim``; with ``frozen`` the map stays the random (Johnson-Lindenstrauss) one.

    Frozen, the channel is label-free and treats seeds and unseen entities alike; trained, the
    ~7k token embeddings memorise the seed pairs (their 4-digit tokens are nearly unique) and the
    fusion then leans on a channel that does not generalise (measured: learning stalls).
    """

    def __init__(self, in_dim: int, out_dim: int, frozen: bool = True) -> None:
        super().__init__(in_dim, out_dim)
        self.weight.requires_grad_(not frozen)

    @classmethod
    def from_config(cls, config: MIMEAConfig, vocab: Vocab) -> ValueEncoder:
        return cls(vocab.value_dim, config.dim, config.value_frozen)

    @staticmethod
    def has_data(vocab: Vocab) -> bool:
        return vocab.value_dim > 0

    def forward(self, inputs: ModelInputs, ids: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return super().forward(inputs.value_bag, inputs.present["value"], ids)
