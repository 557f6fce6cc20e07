"""Data-parallel training with ``torch.distributed`` (launched by ``torchrun``).

Every rank holds the whole model and the whole graph (both are O(N·d); the graph encoder needs
every node) and the same seeded permutation of the seed pairs; each global mini-batch is split
between the ranks (rank ``r`` takes rows ``r, r + W, ...``), every rank back-propagates its share
and the gradients are averaged with one all-reduce per parameter before the optimizer step. The
parameters therefore stay identical on all ranks, and validation, early stopping and pseudo-mining
(deterministic functions of the parameters) agree without further communication; rank 0 alone
writes the run directory.

What changes against one process: the in-batch InfoNCE negatives of a rank are the ``B/W`` rows of
its share instead of ``B``, so W processes train a slightly different objective (measured in
``tests/test_distributed.py``: the 2-process gloo run lands within the stated tolerance of the
1-process one). Backends: NCCL on GPUs (one GPU per rank, ``cuda:LOCAL_RANK``), gloo on CPUs::

    torchrun --nproc_per_node=4 -m mimea_core train datasets/fb15k-db15k.toml --out runs/ddp --device cuda
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def active(self) -> bool:
        return self.size > 1

    def shard(self, rows):
        """This rank's share of a global batch (every ``size``-th row from ``rank``)."""
        return rows[self.rank :: self.size] if self.active else rows

    def any(self, flag: bool) -> bool:
        """True on every rank when it is True on any (a collective stop: no rank is left waiting)."""
        if not self.active:
            return flag
        t = torch.tensor([1.0 if flag else 0.0], device="cuda" if dist.get_backend() == "nccl" else "cpu")
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def average_gradients(self, model: torch.nn.Module) -> None:
        if not self.active:
            return
        for p in model.parameters():
            if p.grad is not None:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)
                p.grad.div_(self.size)


def current_world() -> World:
    """The process group set up by :func:`init_from_env` (or a test), else a single process."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def init_from_env(device: str) -> World:
    """Join the group described by torchrun's ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` (no-op without).

    NCCL when the run is on CUDA (and ``cuda:LOCAL_RANK`` becomes this process's device), gloo
    otherwise.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or (dist.is_initialized()):
        return current_world()
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return current_world()
