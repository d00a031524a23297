"""Reverse Huber (berHu) depth loss."""
from typing import Optional

import torch
from torch import Tensor

from cmim_dense.registry import MODELS
from .base_depth_loss import BaseDepthLoss


@MODELS.register_module()
class BerHuLoss(BaseDepthLoss):
    """Reverse Huber loss (Laina et al. 2016, "Deeper Depth Prediction").

    With the residual ``r = pred - gt`` on the valid pixels::

        berHu(r) = |r|                      if |r| <= c
                   (r^2 + c^2) / (2 c)      otherwise
        c = threshold * max_valid |r|       (threshold = 0.2)

    ``c`` is taken over all valid pixels of the batch (as in the paper) and
    detached. When every residual is 0, ``c = 0`` and the loss is 0.

    Args:
        threshold (float): Fraction of the largest residual giving ``c``.
            Defaults to 0.2.
        min_depth, max_depth, reduction, loss_weight: See
            :class:`BaseDepthLoss`.
        loss_name (str): Defaults to ``'loss_berhu'``.
    """

    def __init__(self,
                 threshold: float = 0.2,
                 min_depth: float = 0.0,
                 max_depth: Optional[float] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_berhu') -> None:
        super().__init__(min_depth, max_depth, reduction, loss_weight,
                         loss_name)
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f'BerHuLoss: threshold must be in (0, 1], got '
                             f'{threshold!r}')
        self.threshold = float(threshold)

    def compute(self, pred: Tensor, target: Tensor, valid: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float]) -> Tensor:
        """See :class:`BaseDepthLoss`."""
        abs_res = (pred - target).abs()
        abs_res = torch.where(valid, abs_res, torch.zeros_like(abs_res))
        c = self.threshold * abs_res.detach().max() if valid.any() else 0.0
        c = torch.as_tensor(c, dtype=abs_res.dtype, device=abs_res.device)
        quad = (abs_res.square() + c.square()) / (2 * c).clamp(min=1e-12)
        loss_map = torch.where(abs_res <= c, abs_res, quad)
        return self.reduce_pixels(loss_map, valid, weight, reduction,
                                  avg_factor)
