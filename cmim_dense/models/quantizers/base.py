"""Shared pieces of every binarization operator.

- :func:`sign`: the forward of every binarizer. By default never returns 0
  (``sign(0) = +1``, so a binary layer only ever sees two values; the
  PyTorch originals use ``torch.sign``, ``sign(0) = 0``: ``zero=0.0``, see
  ``docs/methods.md``); NaN stays NaN so that a non-finite input is visible
  downstream instead of silently becoming ``-1``.
- :class:`SurrogateSign` / :func:`binarize`: ``sign`` in the forward pass and a
  surrogate derivative in the backward pass, given by a
  :class:`~cmim_dense.models.quantizers.surrogate_grads.BaseSurrogateGrad`.
  Only the latent input is saved for backward.
- :class:`ProgressDependent`: mixin for state that follows training progress
  (IR-Net/RBNN ``t, k``, ReCU ``tau``, FDA ``n``). The state is kept in
  buffers (saved in checkpoints, moved with ``.to()``, broadcast by DDP) and
  set by :class:`~cmim_dense.engine.hooks.BinarizerScheduleHook`.
- :class:`WeightStateDependent`: mixin for weight-quantizer state recomputed
  from the latent weight now and then (RBNN's rotations), by
  ``update_state(weight)``.
- :class:`ConstrainedWeight`: mixin for weight quantizers whose latent weight
  is kept inside a set (BNN's clip) by a
  :class:`~.weight_constraints.WeightConstraint`, applied in place after
  every optimizer step.
- :class:`InitFromWeight`: mixin for a role whose parameters start from the
  layer's final latent weight (RBNN's scale), set by the layer on its first
  forward pass.
- :class:`BaseQuantizer`: base class of activation quantizers, weight
  quantizers and output scales.
"""
from typing import Any, Callable, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

SIGN_ZEROS = (1.0, 0.0, -1.0)


def check_sign_zero(zero: float) -> float:
    """Validate the value ``sign`` gives an exact zero (``sign_zero``)."""
    if zero not in SIGN_ZEROS:
        raise ValueError(f'sign_zero must be one of {SIGN_ZEROS} (+1: our '
                         'convention, 0: torch.sign as in the originals), '
                         f'got {zero!r}')
    return float(zero)


def sign(x: Tensor, zero: float = 1.0) -> Tensor:
    """``+1`` for ``x > 0``, ``-1`` for ``x < 0`` and ``zero`` for ``x == 0``.

    The default ``zero=1`` never returns 0; ``zero=0`` is ``torch.sign``.
    NaN inputs give NaN outputs (documented behaviour: non-finite values are
    propagated, never turned into a valid binary value).
    """
    out = torch.sign(x)  # torch.sign(NaN) is 0, hence the isnan guard
    if zero != 0:
        out = out.masked_fill_(out == 0, zero)
    return torch.where(x.isnan(), x, out)


class SurrogateSign(torch.autograd.Function):
    """``scale * sign(x)`` forward, ``dL/dx = g * d(x) [* scale]`` backward.

    ``d`` is the derivative of the surrogate function (a callable module). The
    forward scale, if any, must be detached; it enters the gradient only when
    ``scale_grad`` is true (Bi-Real's magnitude-aware gradient).
    """

    @staticmethod
    def forward(ctx: Any,
                x: Tensor,
                surrogate: nn.Module,
                scale: Optional[Tensor],
                scale_grad: bool,
                zero: float = 1.0) -> Tensor:
        ctx.surrogate = surrogate
        ctx.scale_grad = scale_grad and scale is not None
        if ctx.scale_grad:
            ctx.save_for_backward(x, scale)
        else:
            ctx.save_for_backward(x)
        out = sign(x, zero)
        return out if scale is None else out * scale

    @staticmethod
    def backward(ctx: Any,
                 grad_output: Tensor) -> Tuple[Optional[Tensor], ...]:
        saved = ctx.saved_tensors  # read once (non-reentrant checkpointing)
        grad = grad_output * ctx.surrogate(saved[0])
        if ctx.scale_grad:
            grad = grad * saved[1]
        return grad, None, None, None, None


def binarize(x: Tensor,
             surrogate: nn.Module,
             scale: Optional[Tensor] = None,
             scale_grad: bool = False,
             zero: float = 1.0) -> Tensor:
    """``scale * sign(x)`` with the surrogate derivative in the backward pass.

    Args:
        x (Tensor): Latent (real-valued) tensor.
        surrogate (nn.Module): Callable returning ``d sign~(x) / dx``.
        scale (Tensor, optional): Detached factor broadcastable to ``x``,
            applied in the forward pass. Defaults to None.
        scale_grad (bool): Multiply the gradient by ``scale`` too.
            Defaults to False.
        zero (float): Value of ``sign(0)``. Defaults to 1.

    Returns:
        Tensor: Values in ``{-scale, +scale}`` (``{-1, +1}`` without scale;
        ``0`` at exact zeros when ``zero=0``).
    """
    if scale is not None:
        scale = scale.detach()
    return SurrogateSign.apply(x, surrogate, scale, scale_grad, zero)


def channel_view(param: Tensor, ndim: int, channel_dim: int = 1) -> Tensor:
    """Reshape a per-channel vector so it broadcasts over an ``ndim`` tensor.

    Args:
        param (Tensor): Vector of length C.
        ndim (int): Number of dims of the tensor it multiplies.
        channel_dim (int): Position of the channel axis (1 for ``N, C, H, W``
            activations and for conv weights' input axis, -1 for linear
            activations). Defaults to 1.
    """
    shape = [1] * ndim
    shape[channel_dim] = -1
    return param.view(shape)


def per_out_channel(weight: Tensor, values: Tensor) -> Tensor:
    """Reshape one value per output channel to broadcast over ``weight``."""
    return values.view((-1, ) + (1, ) * (weight.dim() - 1))


def tensor_mean_abs(weight: Tensor) -> Tensor:
    """DoReFa's ``E = mean |W|`` over the whole tensor (a 0-dim tensor)."""
    return weight.abs().mean()


def out_channel_mean_abs(weight: Tensor) -> Tensor:
    """``alpha_w``: mean absolute value of each output channel's weights.

    Returns:
        Tensor: Shape ``(C_out, 1, ..., 1)``, broadcastable to ``weight``.
    """
    return per_out_channel(weight, weight.abs().flatten(1).mean(1))


def standardize_out_channels(weight: Tensor, eps: float = 1e-12) -> Tensor:
    """``(W - mean_o W) / std_o(W - mean_o W)`` per output channel (Libra-PB).

    The statistics are not detached: the gradient flows through them.
    """
    flat = weight.flatten(1)
    centered = flat - flat.mean(1, keepdim=True)
    std = centered.std(1, keepdim=True) if flat.shape[1] > 1 else \
        torch.ones_like(centered[:, :1])
    return (centered / (std + eps)).view_as(weight)


class ProgressDependent:
    """Mixin for quantizer state that follows training progress.

    Subclasses list their schedule buffers in ``progress_buffers`` and
    implement :meth:`set_progress`. Those buffers are persistent (checkpoints
    and resume keep them), but a state dict without them (an FP checkpoint)
    still loads strictly: their current values are kept, because the schedule
    hook recomputes them from the runner's progress anyway.
    """

    progress_buffers: Sequence[str] = ()

    def set_progress(self, progress: float) -> None:
        """Update the schedule buffers for ``progress`` in ``[0, 1]``."""
        raise NotImplementedError

    @staticmethod
    def check_progress(progress: float) -> float:
        progress = float(progress)
        if not 0.0 <= progress <= 1.0:
            raise ValueError(
                f'training progress must lie in [0, 1], got {progress}')
        return progress

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys,
                              error_msgs) -> None:
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)
        for name in self.progress_buffers:
            key = prefix + name
            if key in missing_keys:
                missing_keys.remove(key)


class WeightStateDependent:
    """Mixin for weight-quantizer state computed from the latent weight.

    The state (RBNN's rotations) is not learnt by the optimizer: it is
    recomputed from the layer's latent weight by :meth:`update_state`, which
    :class:`~cmim_dense.engine.hooks.BinarizerScheduleHook` calls for every
    binary layer whose weight quantizer has this mixin, before the first
    forward pass of every ``state_interval``-th epoch (once per epoch by
    default, as RBNN's released code). Keep the state in buffers, so it is
    saved in checkpoints and identical on every DDP rank.
    """

    def update_state(self, weight: Tensor) -> None:
        """Recompute the state from ``weight`` (the layer's latent weight).

        Args:
            weight (Tensor): The latent weight; must not be modified.
        """
        raise NotImplementedError


class ConstrainedWeight:
    """Mixin for weight quantizers that constrain the layer's latent weight.

    ``weight_constraint`` is a callable (a
    :class:`~.weight_constraints.WeightConstraint`, or None for none) that
    changes the latent weight in place. :meth:`constrain` applies it; the
    schedule hook calls that on every binary layer before training and after
    every optimizer step, so every forward pass sees a constrained weight.
    """

    weight_constraint: Optional[Callable[[Tensor], None]] = None

    def constrain(self, weight: Tensor) -> bool:
        """Apply ``weight_constraint`` to ``weight`` in place.

        Args:
            weight (Tensor): The layer's latent weight (a parameter).

        Returns:
            bool: Whether a constraint was applied.
        """
        constraint = self.weight_constraint
        if constraint is None:
            return False
        constraint(weight)
        return True


class InitFromWeight:
    """Mixin for a role initialised from the layer's latent weight, lazily.

    The weight is not final when a role is built (``from_float`` swaps it
    in, ``init_weights`` re-draws it), so a role that starts from it sets
    ``needs_weight_init`` and the binary layer calls
    :meth:`init_from_weight` on its first forward pass (and before its first
    state dict is written). Loading a state dict should clear the flag.
    """

    needs_weight_init: bool = False

    def init_from_weight(self, weight: Tensor) -> None:
        """Initialise from ``weight`` and clear ``needs_weight_init``."""
        raise NotImplementedError


class BaseQuantizer(nn.Module):
    """Base class of activation / weight quantizers and output scales.

    ``levels`` is the pair of values an activation quantizer produces
    (``(-1, 1)`` for every ``sign``, ``(0, 1)`` for DoReFa's 1-bit
    activation): binary layers, complexity counting and packed export ask it
    instead of special-casing a method's name.

    A quantizer used inside a binary layer may take any of these layer
    arguments in its ``__init__``; the layer fills them in (and refuses a
    config value that disagrees with the layer): ``in_channels``,
    ``out_channels``, ``weight_shape``, ``channel_dim``, ``kernel_size``,
    ``stride``, ``dilation``, ``pad`` (``F.pad`` order).
    """

    levels: Tuple[float, float] = (-1.0, 1.0)
