"""IR-Net / RBNN style binary ResNet."""
from collections import OrderedDict
from typing import Optional, Union

from mmcv.cnn import build_norm_layer
from torch import nn

from cmim_dense.registry import MODELS
from .binary_resnet import BinaryResNet
from .builders import build_binary_conv


@MODELS.register_module()
class IRNetResNet(BinaryResNet):
    """Binary ResNet-18/34 of IR-Net and RBNN (the network of CMIM's code).

    Each binary 3x3 conv has its own shortcut:
    ``out = act(bn1(conv1(x)) + shortcut(x))``,
    ``y = act(bn2(conv2(out)) + out)`` with ``act`` Hardtanh by default. The
    downsample shortcut is a 1x1 conv with the stage's stride, binary by
    default, and BN: ``layerK.0.downsample.conv`` / ``.bn``.

    Args:
        depth (int): 18 or 34.
        binarizer (str | dict | None): Binarization method; None builds the
            FP network. Defaults to ``'irnet'``.
        act_cfg (dict, optional): Activation after each residual addition;
            None for identity. Defaults to ``dict(type='Hardtanh')``.
        downsample_binary (bool): Binarize the 1x1 downsample conv (IR-Net);
            False keeps it FP. Defaults to True.
        **kwargs: Other arguments of :class:`~.BinaryResNet` (``strides``,
            ``dilations``, ``out_indices``, ``init_cfg``, ...).
    """

    def __init__(self,
                 depth: int,
                 binarizer: Union[None, str, dict] = 'irnet',
                 act_cfg: Optional[dict] = dict(type='Hardtanh'),
                 downsample_binary: bool = True,
                 **kwargs) -> None:
        self.downsample_binary = downsample_binary
        super().__init__(depth, binarizer, act_cfg, **kwargs)

    def make_downsample(self, in_channels: int, out_channels: int, stride: int,
                        dilation: int, prev_dilation: int) -> nn.Sequential:
        """1x1 conv (binary unless ``downsample_binary=False``) + BN.

        Args:
            in_channels (int): Input channels.
            out_channels (int): Output channels.
            stride (int): The stage's stride.
            dilation (int): The stage's dilation (unused: 1x1 conv).
            prev_dilation (int): Input grid's dilation (unused: 1x1 conv).

        Returns:
            nn.Sequential: ``conv``, ``bn``.
        """
        binarizer = self.binarizer if self.downsample_binary else None
        return nn.Sequential(
            OrderedDict(
                conv=build_binary_conv(binarizer, in_channels, out_channels, 1,
                                       stride, 1, self.pad_value),
                bn=build_norm_layer(self.norm_cfg, out_channels)[1]))
