"""L1 depth loss over valid pixels."""
from typing import Optional

from torch import Tensor

from cmim_dense.registry import MODELS
from .base_depth_loss import BaseDepthLoss


@MODELS.register_module()
class DepthL1Loss(BaseDepthLoss):
    """Mean absolute depth error over the valid pixels.

    ``L = sum_valid |pred - gt| / #valid`` (``'mean'``), invalid pixels
    (``gt <= min_depth``, ``gt >= max_depth``, NaN) excluded from both sums.

    Args:
        min_depth, max_depth, reduction, loss_weight: See
            :class:`BaseDepthLoss`.
        loss_name (str): Defaults to ``'loss_l1'``.
    """

    def __init__(self,
                 min_depth: float = 0.0,
                 max_depth: Optional[float] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_l1') -> None:
        super().__init__(min_depth, max_depth, reduction, loss_weight,
                         loss_name)

    def compute(self, pred: Tensor, target: Tensor, valid: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float]) -> Tensor:
        """See :class:`BaseDepthLoss`."""
        return self.reduce_pixels((pred - target).abs(), valid, weight,
                                  reduction, avg_factor)
