"""Constraints on latent weights, applied in place after the optimizer step.

Some methods keep their latent (FP) weights inside a set: BNN clips them to
``[-1, 1]``, XNOR-Net's released training mean-centres them over the input
channels and then clips them. Such a rule is not part of the forward pass: it
is a projection of the parameter after each update, like larq's
``WeightClip``. A weight quantizer that needs one has the
:class:`~.base.ConstrainedWeight` mixin and sets its ``weight_constraint``;
:class:`~cmim_dense.engine.hooks.BinarizerScheduleHook` applies it to the
layer's weight before training and after every iteration.

A constraint is a plain callable object (not a module: it has no state to
save), ``constraint(weight)`` changing ``weight`` in place without recording
a gradient.
"""
from typing import Optional, Sequence

import torch
from torch import Tensor


class WeightConstraint:
    """Base class: ``constraint(weight)`` projects ``weight`` in place.

    Subclasses implement :meth:`apply_` on the weight's data; calling the
    object runs it under ``torch.no_grad()``.
    """

    def apply_(self, weight: Tensor) -> None:
        """Change ``weight`` (a plain tensor, no autograd) in place."""
        raise NotImplementedError

    def __call__(self, weight: Tensor) -> None:
        with torch.no_grad():
            self.apply_(weight.data)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __repr__(self) -> str:
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items())
        return f'{type(self).__name__}({args})'


def check_clip_value(clip_value: float, name: str = 'clip_value') -> float:
    """Validate a clip bound: a positive number."""
    if isinstance(clip_value, bool) or not isinstance(clip_value,
                                                      (int, float)):
        raise TypeError(f'{name} must be a positive number, got '
                        f'{clip_value!r}')
    if not clip_value > 0:
        raise ValueError(f'{name} must be positive, got {clip_value}')
    return float(clip_value)


class WeightClip(WeightConstraint):
    """Clamp every latent weight to ``[-clip_value, clip_value]`` (BNN).

    Args:
        clip_value (float): The bound, positive. Defaults to 1.
    """

    def __init__(self, clip_value: float = 1.0) -> None:
        self.clip_value = check_clip_value(clip_value)

    def apply_(self, weight: Tensor) -> None:
        weight.clamp_(-self.clip_value, self.clip_value)


class InputChannelCentering(WeightConstraint):
    """Subtract the mean over the input channels (dim 1) (XNOR-Net).

    Every output channel and kernel position gets a zero-mean vector over
    the input channels, as XNOR-Net's released ``util.lua`` does. A weight
    of one dimension (no input channels) is left unchanged.
    """

    def apply_(self, weight: Tensor) -> None:
        if weight.dim() > 1:
            weight.sub_(weight.mean(1, keepdim=True))


class ConstraintSequence(WeightConstraint):
    """Apply several constraints in order.

    Args:
        constraints (Sequence[WeightConstraint]): Applied first to last.
    """

    def __init__(self, constraints: Sequence[WeightConstraint]) -> None:
        self.constraints = tuple(constraints)

    def apply_(self, weight: Tensor) -> None:
        for constraint in self.constraints:
            constraint.apply_(weight)


def latent_weight_constraint(
        latent_clip: Optional[float] = None,
        latent_center: bool = False) -> Optional[WeightConstraint]:
    """The constraint of BNN's / XNOR-Net's latent-weight hyper-parameters.

    Args:
        latent_clip (float, optional): Clip bound (:class:`WeightClip`), or
            None for no clip.
        latent_center (bool): Mean-centre over the input channels first
            (:class:`InputChannelCentering`).

    Returns:
        WeightConstraint | None: None when neither is asked for.
    """
    parts = []
    if latent_center:
        parts.append(InputChannelCentering())
    if latent_clip is not None:
        parts.append(WeightClip(latent_clip))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else ConstraintSequence(parts)


__all__ = [
    'WeightConstraint', 'WeightClip', 'InputChannelCentering',
    'ConstraintSequence', 'latent_weight_constraint'
]
