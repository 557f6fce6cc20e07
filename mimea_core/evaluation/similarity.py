"""Chunked similarity blocks: cosine, CSLS neighbourhood terms, bounded-memory row tiling.

All functions work on torch tensors (numpy arrays are wrapped without a copy) so that the same code
runs on CPU and CUDA; callers hand numpy in and get numpy out at their boundary.

CSLS (Conneau et al., "Word Translation Without Parallel Data", ICLR 2018) corrects hubness:

.. math::

    \\mathrm{CSLS}(x, y) = 2\\cos(x, y) - r_T(x) - r_S(y),

where ``r_T(x)`` is the mean cosine of source ``x`` to its ``k`` nearest targets and ``r_S(y)`` the
mean cosine of target ``y`` to its ``k`` nearest sources.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

# Largest score block (rows x columns) materialised at once: 2**25 float32 = 128 MiB.
MAX_BLOCK_ELEMENTS = 2**25


def as_tensor(x: Any) -> torch.Tensor:
    """float32 tensor view of a numpy array or tensor (no copy when already float32)."""
    if isinstance(x, torch.Tensor):
        return x.detach().to(torch.float32)
    return torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))


def normalize_rows(x: Any) -> torch.Tensor:
    """Rows L2-normalised (zero rows stay zero)."""
    return F.normalize(as_tensor(x), dim=1)


def row_chunks(
    n_rows: int, n_cols: int, chunk_size: int, max_elements: int = MAX_BLOCK_ELEMENTS
) -> Iterator[slice]:
    """Row slices such that a (rows x n_cols) block holds at most ``max_elements`` (and ≤ chunk_size rows)."""
    step = max(1, min(chunk_size, max_elements // max(n_cols, 1)))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def topk_mean(block: torch.Tensor, k: int, dim: int = 1) -> torch.Tensor:
    """Mean of the ``k`` largest values along ``dim`` (``k`` clipped to the size of that dimension)."""
    k = min(k, block.shape[dim])
    if k <= 0:
        return torch.zeros(block.shape[1 - dim], dtype=block.dtype, device=block.device)
    return block.topk(k, dim=dim).values.mean(dim=dim)


def row_neighbourhood_mean(
    A: torch.Tensor, B: torch.Tensor, k: int, *, chunk_size: int = 4096, max_elements: int = MAX_BLOCK_ELEMENTS
) -> torch.Tensor:
    """``r_A`` only: mean cosine of each row of ``A`` to its ``k`` nearest rows of ``B`` (chunked)."""
    out = torch.zeros(A.shape[0], dtype=A.dtype, device=A.device)
    if k <= 0 or B.shape[0] == 0:
        return out
    for rows in row_chunks(A.shape[0], B.shape[0], chunk_size, max_elements):
        out[rows] = topk_mean(A[rows] @ B.T, k, dim=1)
    return out


def csls_from_cosine(cos: torch.Tensor, r_rows: torch.Tensor, r_cols: torch.Tensor) -> torch.Tensor:
    """``2 cos - r_rows[:, None] - r_cols[None, :]`` (a new tensor)."""
    return 2.0 * cos - r_rows[:, None] - r_cols[None, :]
