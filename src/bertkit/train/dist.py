"""Process groups for ``torchrun`` (DDP): gloo on CPU, nccl on GPU; a single process needs none.

``torchrun --nproc_per_node N [--nnodes M ...] -m bertkit.cli ...`` sets RANK, WORLD_SIZE and LOCAL_RANK;
:func:`setup` reads them. Rank 0 logs and saves; every rank reads its own part of each global batch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as tdist

from bertkit.utils.errors import BertkitError


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def pick_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> the local GPU if there is one, else the CPU; otherwise the named device."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}") if torch.cuda.is_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise BertkitError(f"unknown device {name!r} (auto, cpu, cuda, cuda:N)") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise BertkitError(f"device {name!r} asked for, but no CUDA GPU is available")
        if device.index is None:
            device = torch.device(f"cuda:{local_rank}")
    return device


def setup(device_name: str = "auto") -> DistInfo:
    """Join the process group that torchrun describes (if any) and return this process's place in it."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(device_name, local_rank)
    if world > 1 and not tdist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        tdist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistInfo(rank, world, local_rank, device)


def all_reduce_sum(t: torch.Tensor, info: DistInfo) -> torch.Tensor:
    """Sum ``t`` over processes in place (a no-op in a single process); returns it."""
    if info.enabled:
        tdist.all_reduce(t, op=tdist.ReduceOp.SUM)
    return t


def gather_objects(obj, info: DistInfo) -> list:
    """``obj`` of every process, in rank order (``[obj]`` in a single process)."""
    if not info.enabled:
        return [obj]
    out: list = [None] * info.world_size
    tdist.all_gather_object(out, obj)
    return out


def barrier(info: DistInfo) -> None:
    if info.enabled:
        tdist.barrier()


def teardown(info: DistInfo) -> None:
    if info.enabled and tdist.is_initialized():
        tdist.destroy_process_group()
