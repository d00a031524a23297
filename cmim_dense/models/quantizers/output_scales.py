"""Output scales: factors applied to a binary layer's output.

A scale that does not depend on the weight index inside an output channel
can multiply the output instead of the binary activation or weight, so the
activations and weights stay exactly ``{-1, +1}`` (what hooks, BOPs counting
and packed export rely on): ``conv(a, W) * s == conv(a * s, W)`` for a
per-sample (or per-position) ``s``, and ``== conv(a, W * s)`` for a
per-output-channel ``s``. Each module has ``forward(output, latent_input)``.
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS
from .base import (BaseQuantizer, InitFromWeight, channel_view,
                   out_channel_mean_abs)

SCALE_INITS = ('weight', 'uniform')


class BaseOutputScale(BaseQuantizer):
    """Base class: ``forward(output, latent_input) -> scaled output``."""

    def forward(self, output: Tensor, latent_input: Tensor) -> Tensor:
        raise NotImplementedError


@QUANTIZERS.register_module()
class XNORScale(BaseOutputScale):
    """XNOR-Net's activation scale ``beta`` (or map ``K``), detached.

    ``mode='sample'``: ``beta = mean |x|`` over all non-batch dims of each
    sample; ``y = beta * conv(sign x, Q_w)``.
    ``mode='spatial'`` (the paper's ``K``): ``A = mean_c |x|``,
    ``K = A * k`` with ``k`` the ``kh x kw`` box filter ``1 / (kh kw)``,
    using the layer's stride, padding and dilation;
    ``y = K * conv(sign x, Q_w)``. Conv layers only.

    Args:
        mode (str): ``'sample'`` or ``'spatial'``. Defaults to ``'sample'``.
        kernel_size, stride, dilation (tuple[int, int], optional): The
            layer's geometry (filled in by a conv layer).
        pad (tuple[int, ...], optional): The layer's padding in ``F.pad``
            order (filled in by a conv layer).
    """

    def __init__(self,
                 mode: str = 'sample',
                 kernel_size: Optional[Tuple[int, int]] = None,
                 stride: Optional[Tuple[int, int]] = None,
                 dilation: Optional[Tuple[int, int]] = None,
                 pad: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        if mode not in ('sample', 'spatial'):
            raise ValueError(f"XNORScale mode must be 'sample' or 'spatial', "
                             f'got {mode!r}')
        geometry = (kernel_size, stride, dilation, pad)
        if mode == 'spatial' and any(g is None for g in geometry):
            raise ValueError("XNORScale(mode='spatial') needs a conv layer's "
                             'kernel_size, stride, dilation and pad')
        self.mode = mode
        self.stride, self.dilation = stride, dilation
        self.pad = tuple(pad) if pad is not None else None
        if mode == 'spatial':
            self.kernel_area = kernel_size[0] * kernel_size[1]
            self.register_buffer(
                'box', torch.ones(1, 1, *kernel_size), persistent=False)

    def forward(self, output: Tensor, latent_input: Tensor) -> Tensor:
        magnitude = latent_input.detach().abs()
        if self.mode == 'sample':
            beta = magnitude.flatten(1).mean(1)
            return output * beta.view((-1, ) + (1, ) * (output.dim() - 1))
        mean_c = F.pad(magnitude.mean(1, keepdim=True), self.pad)
        box_sum = F.conv2d(mean_c, self.box.to(mean_c.dtype), None,
                           self.stride, 0, self.dilation)
        return output * (box_sum / self.kernel_area)

    def extra_repr(self) -> str:
        return f'mode={self.mode!r}'


@QUANTIZERS.register_module()
class ChannelScale(InitFromWeight, BaseOutputScale):
    """Learnable per-output-channel scale ``s_c`` (RBNN, ReCU).

    ``y_c = s_c * conv(sign x, Q_w)_c``.

    ``init`` sets the start value: a number for every channel;
    ``'uniform'``: ``U[0, 1)`` per channel (ReCU's code, ``torch.rand``);
    ``'weight'``: ``mean |W_c|`` of the layer's latent weight (RBNN's code).
    The weight is not final when the scale is built (``from_float`` swaps it
    in, ``init_weights`` re-draws it), so ``'weight'`` is applied lazily:
    the binary layer calls :meth:`init_from_weight` on its first forward
    pass (the :class:`~.base.InitFromWeight` protocol). Loading a state
    dict that holds ``scale`` cancels the pending initialisation, so loaded
    values are never overwritten.

    Args:
        out_channels (int): Output channels (filled in by the layer).
        init (float | str): Initial value, ``'uniform'`` or ``'weight'``.
            Defaults to 1.
        channel_dim (int): Channel axis of the output (filled in by the
            layer). Defaults to 1.
    """

    def __init__(self,
                 out_channels: int,
                 init: Union[float, str] = 1.0,
                 channel_dim: int = 1) -> None:
        super().__init__()
        if isinstance(init, str) and init not in SCALE_INITS:
            raise ValueError(f'ChannelScale init must be a number or one of '
                             f'{SCALE_INITS}, got {init!r}')
        self.channel_dim = channel_dim
        self.init = init
        if init == 'uniform':
            start = torch.rand(out_channels)
        else:
            start = torch.full((out_channels, ),
                               1.0 if isinstance(init, str) else float(init))
        self.scale = nn.Parameter(start)
        self.needs_weight_init = init == 'weight'

    @torch.no_grad()
    def init_from_weight(self, weight: Tensor) -> None:
        """Set ``s_c = mean |W_c|`` (once; see the class docstring)."""
        values = out_channel_mean_abs(weight.detach()).flatten()
        if values.numel() != self.scale.numel():
            raise ValueError(f'ChannelScale has {self.scale.numel()} '
                             f'channels, the weight {values.numel()}')
        self.scale.copy_(values)
        self.needs_weight_init = False

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict,
                              missing_keys, unexpected_keys,
                              error_msgs) -> None:
        if prefix + 'scale' in state_dict:
            self.needs_weight_init = False
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def forward(self, output: Tensor, latent_input: Tensor) -> Tensor:
        return output * channel_view(self.scale, output.dim(),
                                     self.channel_dim)

    def extra_repr(self) -> str:
        return f'init={self.init!r}'


@QUANTIZERS.register_module()
class GammaScale(ChannelScale):
    """XNOR++'s learnable scale ``Gamma = o x h x w``.

    ``o`` has one factor per output channel; with ``spatial_size=(H, W)``,
    ``h`` (one per output row) and ``w`` (one per output column) complete the
    rank-1 factorisation learnt at that output size. At another output size
    (whole-image inference at another resolution) ``h`` and ``w`` are
    linearly interpolated to it (``align_corners=False``), so the same
    relative positions keep their factors. Without ``spatial_size`` (the
    default) only ``o`` is used: a per-channel factor that the following
    batch norm absorbs, so the layer then trains like ``bnn``.
    ``y = Gamma * conv(sign x, sign W)``; all factors start at 1.

    Args:
        out_channels (int): Output channels (filled in by the layer).
        spatial_size (tuple[int, int], optional): Training output
            ``(H, W)``.
        channel_dim (int): Channel axis of the output (filled in by the
            layer). Defaults to 1.
    """

    def __init__(self,
                 out_channels: int,
                 spatial_size: Optional[Tuple[int, int]] = None,
                 channel_dim: int = 1) -> None:
        super().__init__(out_channels, 1.0, channel_dim)
        self.spatial_size = None
        if spatial_size is not None:
            if channel_dim != 1:
                raise ValueError('GammaScale spatial factors need a conv '
                                 'layer (N, C, H, W outputs)')
            h, w = (int(s) for s in spatial_size)
            if h <= 0 or w <= 0:
                raise ValueError('GammaScale spatial_size must be positive, '
                                 f'got {spatial_size}')
            self.spatial_size = (h, w)
            self.rows = nn.Parameter(torch.ones(h))
            self.cols = nn.Parameter(torch.ones(w))

    @staticmethod
    def _resize(factors: Tensor, size: int) -> Tensor:
        if factors.numel() == size:
            return factors
        return F.interpolate(
            factors.view(1, 1, -1),
            size=size,
            mode='linear',
            align_corners=False).view(-1)

    def forward(self, output: Tensor, latent_input: Tensor) -> Tensor:
        output = super().forward(output, latent_input)
        if self.spatial_size is None:
            return output
        if output.dim() != 4:
            raise ValueError('GammaScale spatial factors need N, C, H, W '
                             f'outputs, got shape {tuple(output.shape)}')
        h, w = output.shape[-2:]
        rows = self._resize(self.rows, h).to(output.dtype)
        cols = self._resize(self.cols, w).to(output.dtype)
        return output * rows.view(1, 1, h, 1) * cols.view(1, 1, 1, w)

    def extra_repr(self) -> str:
        return f'spatial_size={self.spatial_size}'
