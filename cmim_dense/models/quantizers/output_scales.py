"""Output scales: factors applied to a binary layer's output.

A scale that does not depend on the weight index inside an output channel
can multiply the output instead of the binary activation or weight, so the
activations and weights stay exactly ``{-1, +1}`` (what hooks, BOPs counting
and packed export rely on): ``conv(a, W) * s == conv(a * s, W)`` for a
per-sample (or per-position) ``s``, and ``== conv(a, W * s)`` for a
per-output-channel ``s``. Each module has ``forward(output, latent_input)``.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS
from .base import BaseQuantizer, channel_view


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
class ChannelScale(BaseOutputScale):
    """Learnable per-output-channel scale ``s_c`` (RBNN, ReCU).

    ``y_c = s_c * conv(sign x, Q_w)_c``.

    Args:
        out_channels (int): Output channels (filled in by the layer).
        init (float): Initial value of every ``s_c``. Defaults to 1.
        channel_dim (int): Channel axis of the output (filled in by the
            layer). Defaults to 1.
    """

    def __init__(self,
                 out_channels: int,
                 init: float = 1.0,
                 channel_dim: int = 1) -> None:
        super().__init__()
        self.channel_dim = channel_dim
        self.scale = nn.Parameter(torch.full((out_channels, ), float(init)))

    def forward(self, output: Tensor, latent_input: Tensor) -> Tensor:
        return output * channel_view(self.scale, output.dim(),
                                     self.channel_dim)


@QUANTIZERS.register_module()
class GammaScale(ChannelScale):
    """XNOR++'s learnable scale ``Gamma = o x h x w``.

    ``o`` has one factor per output channel; with ``spatial_size=(H, W)``,
    ``h`` (one per output row) and ``w`` (one per output column) complete the
    rank-1 factorisation and the layer's output must be ``H x W``. Without
    ``spatial_size`` only ``o`` is used (any input size).
    ``y = Gamma * conv(sign x, sign W)``; all factors start at 1.

    Args:
        out_channels (int): Output channels (filled in by the layer).
        spatial_size (tuple[int, int], optional): Output ``(H, W)``.
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
            self.spatial_size = (h, w)
            self.rows = nn.Parameter(torch.ones(h))
            self.cols = nn.Parameter(torch.ones(w))

    def forward(self, output: Tensor, latent_input: Tensor) -> Tensor:
        output = super().forward(output, latent_input)
        if self.spatial_size is None:
            return output
        if tuple(output.shape[-2:]) != self.spatial_size:
            raise ValueError(
                f'GammaScale was built for {self.spatial_size} outputs, got '
                f'{tuple(output.shape[-2:])}; set spatial_size=None for '
                'inputs of varying size')
        h, w = self.spatial_size
        return output * self.rows.view(1, 1, h, 1) * self.cols.view(1, 1, 1, w)

    def extra_repr(self) -> str:
        return f'spatial_size={self.spatial_size}'
