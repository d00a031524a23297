"""Binary 2-D convolution."""
from typing import Optional, Tuple, Union

import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import MMENGINE_MODELS
from .binary_layer import BinaryLayerMixin, RoleCfg

PAD_VALUES = (-1.0, 0.0, 1.0)


@MMENGINE_MODELS.register_module()
class BinaryConv2d(BinaryLayerMixin, nn.Conv2d):
    """``nn.Conv2d`` with binarized activations and weights.

    ``y = s(x) * conv(pad(Q_a(x), pad_value), Q_w(W)) + b`` where ``Q_a`` is
    ``input_quantizer``, ``Q_w`` is ``weight_quantizer`` and ``s`` is
    ``output_scale`` (each optional, see :mod:`.binary_layer`). Stride,
    padding (including ``'same'``), dilation, groups and padding modes are
    those of ``nn.Conv2d``. The binary input is padded with ``pad_value``
    (+1 by default, the value ``sign`` gives a zero-padded latent input) so
    the convolution only ever sees ``{-1, +1}``; ``pad_value=0`` restores zero
    padding, what the PyTorch originals do (``docs/methods.md``). An input
    quantizer with other levels (DoReFa's ``{0, 1}``) is padded with 0, the
    value it gives a zero-padded latent input, whatever ``pad_value``.
    ``weight``/``bias`` keep their names, so FP state dicts load.
    Works wherever mmcv builds convs:
    ``conv_cfg=dict(type='BinaryConv2d', binarizer='irnet')``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation,
        groups, bias, padding_mode, device, dtype: As ``nn.Conv2d``.
        binarizer (str | dict, optional): A name of
            :func:`~cmim_dense.available_binarizers` or
            ``dict(type=name, **options)``. None gives an FP conv unless a
            role is given. Defaults to None.
        input_quantizer, weight_quantizer, output_scale (dict | bool):
            Config replacing the binarizer's for that role; ``False`` drops
            the role. Defaults to None (the binarizer's).
        pad_value (float): Value (-1, 0 or +1) padding a ``{-1, +1}``
            binarized input. Defaults to 1.0.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Union[int, Tuple[int, int]],
                 stride: Union[int, Tuple[int, int]] = 1,
                 padding: Union[str, int, Tuple[int, int]] = 0,
                 dilation: Union[int, Tuple[int, int]] = 1,
                 groups: int = 1,
                 bias: bool = True,
                 padding_mode: str = 'zeros',
                 binarizer: Union[None, str, dict] = None,
                 input_quantizer: RoleCfg = None,
                 weight_quantizer: RoleCfg = None,
                 output_scale: RoleCfg = None,
                 pad_value: float = 1.0,
                 device=None,
                 dtype=None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride,
                         padding, dilation, groups, bias, padding_mode, device,
                         dtype)
        if pad_value not in PAD_VALUES:
            raise ValueError(f'BinaryConv2d: pad_value must be one of '
                             f'{PAD_VALUES}, got {pad_value!r}')
        self.pad_value = float(pad_value)
        self.init_quantizers(
            binarizer,
            dict(
                input_quantizer=input_quantizer,
                weight_quantizer=weight_quantizer,
                output_scale=output_scale),
            dict(
                in_channels=in_channels,
                out_channels=out_channels,
                weight_shape=tuple(self.weight.shape),
                channel_dim=1,
                kernel_size=self.kernel_size,
                stride=self.stride,
                dilation=self.dilation,
                pad=tuple(self._reversed_padding_repeated_twice)))

    @classmethod
    def from_float(cls, conv: nn.Conv2d, **kwargs) -> 'BinaryConv2d':
        """Binary twin of an FP conv sharing its ``weight``/``bias`` tensors.

        Args:
            conv (nn.Conv2d): The FP conv.
            **kwargs: ``binarizer``, roles and ``pad_value``.
        """
        layer = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            conv.stride,
            conv.padding,
            conv.dilation,
            conv.groups,
            conv.bias is not None,
            conv.padding_mode,
            device=conv.weight.device,
            dtype=conv.weight.dtype,
            **kwargs)
        layer.weight = conv.weight
        layer.bias = conv.bias
        layer.train(conv.training)
        return layer

    @property
    def effective_pad_value(self) -> float:
        """The value that pads the binarized input: ``pad_value`` for a
        ``{-1, +1}`` input, 0 for any other levels (DoReFa's ``{0, 1}``)."""
        if self.input_levels not in (None, (-1.0, 1.0)):
            return 0.0
        return self.pad_value

    def _binary_conv(self, x: Tensor, weight: Tensor,
                     bias: Optional[Tensor]) -> Tensor:
        pad = self._reversed_padding_repeated_twice
        value = self.effective_pad_value
        if (self.input_quantizer is not None and value != 0
                and self.padding_mode == 'zeros' and any(pad)):
            x = F.pad(x, pad, value=value)
            return F.conv2d(x, weight, bias, self.stride, 0, self.dilation,
                            self.groups)
        return self._conv_forward(x, weight, bias)

    def forward(self, x: Tensor) -> Tensor:
        if not self.is_quantized:
            return super().forward(x)
        return self.binary_forward(x, self._binary_conv)

    def extra_repr(self) -> str:
        s = super().extra_repr() + self.binary_repr()
        if self.input_quantizer is not None:
            s += f', pad_value={self.effective_pad_value}'
        return s
