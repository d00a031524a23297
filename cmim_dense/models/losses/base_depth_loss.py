"""Base class of the depth losses: valid-pixel masking and reduction."""
import math
from typing import Optional

import torch
from torch import Tensor, nn

REDUCTIONS = ('none', 'mean', 'sum')


class BaseDepthLoss(nn.Module):
    """Common part of the depth regression losses.

    A ground-truth pixel is valid iff it is finite and
    ``min_depth < gt < max_depth`` (``max_depth=None``: no upper bound).
    The usual invalid marker, ``gt = 0``, is excluded by the default
    ``min_depth=0``; so are negative depths and NaNs. Only valid pixels
    enter a loss and its normaliser. A batch without any valid pixel gives a
    zero loss that still has a gradient (``0 * pred.sum()``), never NaN.

    Subclasses implement :meth:`compute`.

    Args:
        min_depth (float): Exclusive lower bound of valid GT depth.
            Defaults to 0.
        max_depth (float, optional): Exclusive upper bound of valid GT
            depth. Defaults to None (no bound).
        reduction (str): ``'none'``, ``'mean'`` or ``'sum'``. Defaults to
            ``'mean'``.
        loss_weight (float): Multiplier of the loss. Defaults to 1.
        loss_name (str): Name of the loss item in the loss dict; it must
            start with ``loss_`` to be back-propagated.
    """

    def __init__(self,
                 min_depth: float = 0.0,
                 max_depth: Optional[float] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_depth') -> None:
        super().__init__()
        name = type(self).__name__
        if reduction not in REDUCTIONS:
            raise ValueError(f'{name}: reduction must be one of '
                             f'{REDUCTIONS}, got {reduction!r}')
        if not math.isfinite(min_depth) or min_depth < 0:
            raise ValueError(f'{name}: min_depth must be finite and >= 0, '
                             f'got {min_depth!r}')
        if max_depth is not None and not max_depth > min_depth:
            raise ValueError(f'{name}: max_depth ({max_depth!r}) must be '
                             f'greater than min_depth ({min_depth!r})')
        self.min_depth = float(min_depth)
        self.max_depth = None if max_depth is None else float(max_depth)
        self.reduction = reduction
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item (mmseg convention)."""
        return self._loss_name

    def valid_mask(self, target: Tensor) -> Tensor:
        """Boolean mask of the valid ground-truth pixels.

        Args:
            target (Tensor): Ground-truth depth in metres.

        Returns:
            Tensor: ``min_depth < target < max_depth`` (False at NaN).
        """
        valid = target > self.min_depth
        if self.max_depth is not None:
            valid &= target < self.max_depth
        return valid & torch.isfinite(target)

    def forward(self,
                pred: Tensor,
                target: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                **kwargs) -> Tensor:
        """Compute the weighted loss.

        Args:
            pred (Tensor): Predicted depth, (N, 1, H, W) or (N, H, W).
            target (Tensor): Ground-truth depth of the same shape.
            weight (Tensor, optional): Weight broadcastable to ``pred``
                (per pixel), or of shape (N,) for per-image losses.
                Defaults to None.
            avg_factor (float, optional): Normaliser replacing the number of
                valid pixels (images) in the ``'mean'`` reduction.
                Defaults to None.
            reduction_override (str, optional): Overrides ``reduction``.
            **kwargs: Ignored (``ignore_index`` passed by seg heads).

        Returns:
            Tensor: The loss times ``loss_weight``.

        Raises:
            ValueError: On a shape mismatch or a bad reduction.
        """
        name = type(self).__name__
        if pred.shape != target.shape:
            raise ValueError(f'{name}: prediction shape {tuple(pred.shape)} '
                             f'!= target shape {tuple(target.shape)}')
        if pred.dim() not in (3, 4):
            raise ValueError(f'{name}: expected (N, 1, H, W) or (N, H, W) '
                             f'depth maps, got shape {tuple(pred.shape)}')
        reduction = reduction_override or self.reduction
        if reduction not in REDUCTIONS:
            raise ValueError(f'{name}: reduction must be one of '
                             f'{REDUCTIONS}, got {reduction!r}')
        target = target.to(pred.dtype)
        valid = self.valid_mask(target.detach())
        loss = self.compute(pred, target, valid, weight, reduction, avg_factor)
        return self.loss_weight * loss

    def compute(self, pred: Tensor, target: Tensor, valid: Tensor,
                weight: Optional[Tensor], reduction: str,
                avg_factor: Optional[float]) -> Tensor:
        """Loss of the valid pixels; implemented by subclasses.

        Args:
            pred (Tensor): Predicted depth.
            target (Tensor): Ground-truth depth (same shape and dtype).
            valid (Tensor): Boolean mask of valid GT pixels.
            weight (Tensor, optional): See :meth:`forward`.
            reduction (str): Resolved reduction.
            avg_factor (float, optional): See :meth:`forward`.

        Returns:
            Tensor: The unweighted (by ``loss_weight``) loss.
        """
        raise NotImplementedError

    @staticmethod
    def reduce_pixels(loss_map: Tensor, valid: Tensor,
                      weight: Optional[Tensor], reduction: str,
                      avg_factor: Optional[float]) -> Tensor:
        """Reduce a per-pixel loss over the valid pixels.

        Args:
            loss_map (Tensor): Per-pixel loss; values at invalid pixels are
                ignored (they may be anything, even NaN).
            valid (Tensor): Boolean mask of valid pixels.
            weight (Tensor, optional): Per-pixel weight (broadcastable).
            reduction (str): ``'none'`` (map with zeros at invalid pixels),
                ``'sum'`` or ``'mean'`` (sum / number of valid pixels, or
                / ``avg_factor``).
            avg_factor (float, optional): Normaliser of ``'mean'``.

        Returns:
            Tensor: The reduced loss.
        """
        loss_map = torch.where(valid, loss_map, torch.zeros_like(loss_map))
        if weight is not None:
            loss_map = loss_map * weight.to(loss_map.dtype)
        if reduction == 'none':
            return loss_map
        total = loss_map.sum()
        if reduction == 'sum':
            return total
        count = valid.sum() if avg_factor is None else avg_factor
        if avg_factor is None and int(count) == 0:
            return total * 0.0
        return total / count
