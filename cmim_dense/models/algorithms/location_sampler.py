"""Sample feature-map locations for CMIM's dense (pixel) form."""
from typing import Tuple

import torch
from torch import Tensor


def sample_locations(num_images: int,
                     height: int,
                     width: int,
                     num_locations: int,
                     device=None) -> Tensor:
    """Draw locations uniformly without replacement, per image.

    Args:
        num_images (int): ``N``.
        height (int): ``H`` of the map the indices refer to.
        width (int): ``W``.
        num_locations (int): ``P``; every location when ``H * W <= P``.
        device: Where to create the indices. Defaults to None (CPU).

    Returns:
        Tensor: ``(N, min(P, H * W))`` flat indices ``row * W + col``.
    """
    total = height * width
    if num_locations >= total:
        return torch.arange(total, device=device).expand(num_images, total)
    scores = torch.rand(num_images, total, device=device)
    return scores.topk(num_locations, dim=1).indices


def gather_locations(x: Tensor, index: Tensor, grid: Tuple[int,
                                                           int]) -> Tensor:
    """Feature vectors of ``x`` at locations of a (possibly other) grid.

    The indices refer to a ``grid = (H, W)`` map; on a map of another size
    (an FP teacher's at another stride) a location goes to the pixel that
    holds its centre.

    Args:
        x (Tensor): ``(N, C, H', W')``.
        index (Tensor): ``(N, P)`` flat indices on ``grid``.
        grid (tuple[int, int]): ``(H, W)`` of the indices.

    Returns:
        Tensor: ``(N * P, C)``, image-major (image ``i``'s ``P`` rows first).
    """
    if x.dim() != 4:
        raise ValueError(
            "CMIM granularity='pixel' needs (N, C, H, W) maps; got a "
            f'{tuple(x.shape)} activation (a linear layer?): record conv '
            'layers or use granularity=\'image\'')
    n, c, h, w = x.shape
    gh, gw = grid
    if (h, w) != (gh, gw):
        rows = ((2 * torch.div(index, gw, rounding_mode='floor') + 1) * h //
                (2 * gh))
        cols = (2 * (index % gw) + 1) * w // (2 * gw)
        index = rows * w + cols
    flat = x.flatten(2)
    picked = flat.gather(2, index[:, None, :].expand(n, c, index.shape[1]))
    return picked.transpose(1, 2).reshape(-1, c)
