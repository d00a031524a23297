"""Binary fully connected layer."""
from typing import Union

import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import MMENGINE_MODELS
from .binary_layer import BinaryLayerMixin, RoleCfg


@MMENGINE_MODELS.register_module()
class BinaryLinear(BinaryLayerMixin, nn.Linear):
    """``nn.Linear`` with binarized activations and weights.

    ``y = s(x) * linear(Q_a(x), Q_w(W)) + b``; the roles are those of
    :class:`~cmim_dense.models.layers.BinaryConv2d`. The channel axis of the
    input is the last one.

    Args:
        in_features, out_features, bias, device, dtype: As ``nn.Linear``.
        binarizer (str | dict, optional): Named method. Defaults to None.
        input_quantizer, weight_quantizer, output_scale (dict | bool):
            Config replacing the binarizer's for that role; ``False`` drops
            the role. Defaults to None.
    """

    channel_dim = -1

    def __init__(self,
                 in_features: int,
                 out_features: int,
                 bias: bool = True,
                 binarizer: Union[None, str, dict] = None,
                 input_quantizer: RoleCfg = None,
                 weight_quantizer: RoleCfg = None,
                 output_scale: RoleCfg = None,
                 device=None,
                 dtype=None) -> None:
        super().__init__(in_features, out_features, bias, device, dtype)
        self.init_quantizers(
            binarizer,
            dict(
                input_quantizer=input_quantizer,
                weight_quantizer=weight_quantizer,
                output_scale=output_scale),
            dict(
                in_channels=in_features,
                out_channels=out_features,
                weight_shape=tuple(self.weight.shape),
                channel_dim=-1))

    @classmethod
    def from_float(cls, linear: nn.Linear, **kwargs) -> 'BinaryLinear':
        """Binary twin of an FP linear layer sharing its tensors."""
        layer = cls(
            linear.in_features,
            linear.out_features,
            linear.bias is not None,
            device=linear.weight.device,
            dtype=linear.weight.dtype,
            **kwargs)
        layer.weight = linear.weight
        layer.bias = linear.bias
        layer.train(linear.training)
        return layer

    def forward(self, x: Tensor) -> Tensor:
        if not self.is_quantized:
            return super().forward(x)
        return self.binary_forward(x, F.linear)

    def extra_repr(self) -> str:
        return super().extra_repr() + self.binary_repr()
