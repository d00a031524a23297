"""Collectives for losses that need the global batch."""
from typing import Tuple

import torch
import torch.distributed as dist
from torch import Tensor


def world_info() -> Tuple[int, int]:
    """``(rank, world_size)``; ``(0, 1)`` outside distributed runs."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_with_grad(x: Tensor) -> Tuple[Tensor, int]:
    """Concatenate ``x`` (first dim may differ per rank) over all ranks.

    The gradient flows back to every rank's own part (the backward of the
    all-gather sums the gradients of all ranks' losses).

    Args:
        x (Tensor): Local tensor ``(n_rank, ...)``.

    Returns:
        tuple[Tensor, int]: The global tensor and the offset of this rank's
        rows in it.
    """
    rank, world = world_info()
    if world == 1:
        return x, 0
    from torch.distributed.nn.functional import all_gather
    sizes = [
        torch.zeros(1, dtype=torch.long, device=x.device) for _ in range(world)
    ]
    dist.all_gather(sizes, torch.tensor([x.shape[0]], device=x.device))
    sizes = [int(s) for s in sizes]
    padded = x
    if x.shape[0] < max(sizes):
        pad = x.new_zeros((max(sizes) - x.shape[0], ) + tuple(x.shape[1:]))
        padded = torch.cat([x, pad])
    parts = all_gather(padded)
    out = torch.cat([p[:n] for p, n in zip(parts, sizes)])
    return out, sum(sizes[:rank])


@torch.no_grad()
def gather_no_grad(x: Tensor) -> Tensor:
    """Concatenate ``x`` over all ranks without gradient."""
    return gather_with_grad(x.detach())[0].detach()
