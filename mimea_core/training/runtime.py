"""Run-time switches around a training run (determinism, thread counts), the process's peak memory
and the GPU's figures.

``deterministic_mode(True)`` turns on ``torch.use_deterministic_algorithms(True, warn_only=True)``
and sets ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` (cuBLAS needs a fixed workspace for reproducible
matrix products, see the CUDA reproducibility notes of PyTorch) for the duration of the ``with``
block and puts the previous settings back afterwards (no process-wide state is left behind).

What this does and does not make bit-reproducible on CUDA:

- reproducible: dense matrix products (cuBLAS, with the workspace setting), ``index_add_`` and
  ``scatter_add``/``scatter_reduce(sum)`` (torch switches to sorted, deterministic kernels), the
  Beta sampling and dropout (seeded generators), the POT Sinkhorn iterations (dense ops only);
- not guaranteed: the sparse CSR products of the graph encoder (``torch.sparse`` → cuSPARSE SpMM
  and SDDMM), which torch's switch does not cover; kernels without a deterministic version only
  warn (``warn_only=True``) instead of failing the run. Runs with the same seed therefore agree to
  float32 rounding, not necessarily bit for bit; on the CPU with a fixed thread count they are
  bit-identical.

``CUBLAS_WORKSPACE_CONFIG`` is read when cuBLAS creates its handle, i.e. at the first CUDA matrix
product of the process: turn the switch on before any CUDA work (the ``train`` command does).
"""

from __future__ import annotations

import contextlib
import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

CUBLAS_ENV = "CUBLAS_WORKSPACE_CONFIG"
CUBLAS_VALUE = ":4096:8"


@contextmanager
def deterministic_mode(enabled: bool) -> Iterator[None]:
    """Deterministic torch kernels (warn where none exists) inside the block when ``enabled``."""
    if not enabled:
        yield
        return
    was = torch.are_deterministic_algorithms_enabled()
    was_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    env_before = os.environ.get(CUBLAS_ENV)
    os.environ.setdefault(CUBLAS_ENV, CUBLAS_VALUE)
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=was_warn)
        if env_before is None:
            os.environ.pop(CUBLAS_ENV, None)


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask; ``os.cpu_count()`` elsewhere)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """``torch.set_num_threads(n)`` inside the block (0 = every usable core), restored afterwards."""
    before = torch.get_num_threads()
    want = n if n > 0 else usable_cores()
    if want != before:
        torch.set_num_threads(want)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def peak_rss_mb() -> float:
    """The process's resident high-water mark (``ru_maxrss``, KiB on Linux), MB: since the start, or
    since the last :func:`reset_peak_rss`."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def reset_peak_rss() -> None:
    """Restart the process's resident high-water mark at its current RSS (Linux >= 4.0:
    ``/proc/self/clear_refs``; Linux reports ``ru_maxrss`` of a live process from the same mark), so
    that :func:`peak_rss_mb` gives the peak of what runs from here on. A no-op where /proc is missing."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def reset_gpu_peak(device: str) -> None:
    """Start a fresh peak-memory count on a CUDA device (no-op on the CPU)."""
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)


def gpu_figures(device: str) -> dict[str, Any]:
    """``{"gpu": name, "peak_gpu_mb": max allocated MiB}`` on CUDA, ``{}`` on the CPU."""
    if not device.startswith("cuda"):
        return {}
    return {
        "gpu": torch.cuda.get_device_name(device),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1),
    }
