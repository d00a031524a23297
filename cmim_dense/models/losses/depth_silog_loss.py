"""Scale-invariant logarithmic (SiLog) depth loss, mmseg and BTS variants."""
from typing import Dict, Optional

import torch
from torch import Tensor

from cmim_dense.registry import MODELS
from .base_depth_loss import BaseDepthLoss

#: Presets: variance weight ``lambda``, output ``scale`` and whether the
#: statistic is per image (then averaged) or pooled over the batch.
SILOG_VARIANTS: Dict[str, dict] = {
    'mmseg': dict(variance_weight=0.5, scale=1.0, per_image=True),
    'bts': dict(variance_weight=0.85, scale=10.0, per_image=False),
}


@MODELS.register_module()
class DepthSiLogLoss(BaseDepthLoss):
    r"""Scale-invariant logarithmic loss (Eigen et al. 2014), two variants.

    With ``e = log(pred) - log(gt)`` over the valid pixels
    (``min_depth < gt < max_depth``, see :class:`BaseDepthLoss`)::

        L = scale * sqrt(mean(e^2) - lambda * mean(e)^2)

    - ``variant='mmseg'``: ``lambda = 0.5``, ``scale = 1``, computed per
      image and averaged over the images (that have a valid pixel). This is
      the formula of mmseg's ``SiLogLoss`` (``sqrt(mean(e^2) - 0.5
      mean(e)^2)`` per image, no scaling), equal to it whenever every image
      has a valid pixel.
    - ``variant='bts'``: ``lambda = 0.85``, ``scale = 10``, one statistic
      pooled over all valid pixels of the batch: BTS's
      ``silog_loss_variance`` (Lee et al. 2019, ``variance_focus=0.85``,
      ``* 10``), also used by AdaBins and NeWCRFs.

    Neither is the SILog *metric* (``sqrt(mean(e^2) - mean(e)^2) * 100``,
    i.e. ``lambda = 1``, ``scale = 100``, see
    :class:`~cmim_dense.evaluation.DepthEvalMetric`).
    ``variance_weight``, ``scale`` and ``per_image`` override the preset.
    The variance term is clamped at ``1e-12`` before the square root so a
    perfect prediction gives a finite gradient. Predictions are clamped to
    ``>= eps`` before the log.

    Args:
        variant (str): ``'mmseg'`` or ``'bts'``. Defaults to ``'mmseg'``.
        variance_weight (float, optional): ``lambda`` in [0, 1].
        scale (float, optional): Output multiplier.
        per_image (bool, optional): Per-image statistic (True) or pooled
            over the batch (False).
        eps (float): Lower clamp of the prediction. Defaults to 1e-6.
        min_depth, max_depth, reduction, loss_weight: See
            :class:`BaseDepthLoss`. The reduction runs over images (only
            meaningful with ``per_image``; ``'none'`` then returns one value
            per image, 0 for images without a valid pixel).
        loss_name (str): Defaults to ``'loss_silog'``.
    """

    def __init__(self,
                 variant: str = 'mmseg',
                 variance_weight: Optional[float] = None,
                 scale: Optional[float] = None,
                 per_image: Optional[bool] = None,
                 eps: float = 1e-6,
                 min_depth: float = 0.0,
                 max_depth: Optional[float] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_silog') -> None:
        super().__init__(min_depth, max_depth, reduction, loss_weight,
                         loss_name)
        if variant not in SILOG_VARIANTS:
            raise ValueError(f'DepthSiLogLoss: variant must be one of '
                             f'{tuple(SILOG_VARIANTS)}, got {variant!r}')
        preset = SILOG_VARIANTS[variant]
        self.variant = variant
        self.variance_weight = float(
            preset['variance_weight'] if variance_weight is
            None else variance_weight)
        self.scale = float(preset['scale'] if scale is None else scale)
        self.per_image = bool(preset['per_image'] if per_image is
                              None else per_image)
        if not 0.0 <= self.variance_weight <= 1.0:
            raise ValueError('DepthSiLogLoss: variance_weight must be in '
                             f'[0, 1], got {self.variance_weight}')
        if eps <= 0:
            raise ValueError(f'DepthSiLogLoss: eps must be > 0, got {eps}')
        self.eps = float(eps)

    def _statistic(self, err: Tensor, valid: Tensor, dims: tuple) -> Tensor:
        """``scale * sqrt(mean(e^2) - lambda mean(e)^2)`` over ``dims``."""
        validf = valid.to(err.dtype)
        count = validf.sum(dims).clamp(min=1.0)
        mean = (err * validf).sum(dims) / count
        mean_sq = (err.square() * validf).sum(dims) / count
        var = mean_sq - self.variance_weight * mean.square()
        return self.scale * torch.sqrt(var.clamp(min=1e-12))

    def compute(self, pred: Tensor, target: Tensor, valid: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float]) -> Tensor:
        """See :class:`BaseDepthLoss`."""
        safe_target = torch.where(valid, target, torch.ones_like(target))
        err = torch.log(pred.clamp(min=self.eps)) - torch.log(safe_target)
        err = torch.where(valid, err, torch.zeros_like(err))
        if not self.per_image:
            if weight is not None:
                raise ValueError('DepthSiLogLoss: a per-image weight needs '
                                 'per_image=True (the BTS variant pools the '
                                 'batch)')
            if not bool(valid.any()):
                return pred.sum() * 0.0
            return self._statistic(err, valid, tuple(range(err.dim())))
        dims = tuple(range(1, err.dim()))
        loss = self._statistic(err, valid, dims)
        has_valid = valid.flatten(1).any(1)
        loss = torch.where(has_valid, loss, torch.zeros_like(loss))
        if weight is not None:
            loss = loss * weight.to(loss.dtype).reshape(-1)
        if reduction == 'none':
            return loss
        if reduction == 'sum':
            return loss.sum()
        count = has_valid.sum() if avg_factor is None else avg_factor
        if avg_factor is None and int(count) == 0:
            return pred.sum() * 0.0
        return loss.sum() / count
