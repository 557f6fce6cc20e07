"""Benchmark grids on real MMKGs: resumable cells, JSON records, markdown tables and plots."""

from mimea_core.benchmarking.grid import GRIDS, BenchCell, GridSpec, Variant
from mimea_core.benchmarking.runner import run_grid

__all__ = ["GRIDS", "BenchCell", "GridSpec", "Variant", "run_grid"]
