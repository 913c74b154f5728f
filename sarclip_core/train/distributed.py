"""torchrun/DDP plumbing: who am I, process group set-up, feature gathering that keeps gradients."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_fn


@dataclass(frozen=True)
class World:
    """This process's place in a (possibly single-process) run."""

    rank: int = 0
    size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def init_world(device: str | None = None) -> World:
    """Join torchrun's process group when launched by it (gloo on CPU, nccl on GPU); else a world of one."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = (device or ("cuda" if torch.cuda.is_available() else "cpu")).startswith("cuda")
    target = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(target)
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return World(rank, size, target)


def close_world(world: World) -> None:
    """Leave torchrun's process group (nothing to do for a world of one)."""
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def gather(tensor: torch.Tensor, world: World) -> torch.Tensor:
    """Concatenate a tensor from all ranks along dim 0; gradients flow back to each rank's own part."""
    if not world.distributed:
        return tensor
    if tensor.requires_grad:
        return torch.cat(dist_fn.all_gather(tensor), dim=0)
    parts = [torch.empty_like(tensor) for _ in range(world.size)]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts, dim=0)


def mean_over_world(value: float, world: World) -> float:
    """A scalar averaged over ranks (for logging)."""
    if not world.distributed:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / world.size
