"""Bi-Real Net style binary ResNet."""
from collections import OrderedDict
from typing import Optional, Union

from mmcv.cnn import build_norm_layer
from torch import nn

from cmim_dense.registry import MODELS
from .binary_resnet import BinaryResNet
from .builders import build_binary_conv
from .shortcut_pool import build_shortcut_pool


@MODELS.register_module()
class BiRealResNet(BinaryResNet):
    """Binary ResNet-18/34 of Bi-Real Net (Liu et al. 2018).

    Same blocks as :class:`~.IRNetResNet` (a real-valued identity shortcut
    around every binary conv) without activation by default. The downsample
    shortcut is FP: ``pool`` (2x2 average pooling, only where the stage
    downsamples), ``conv`` (1x1, stride 1) and ``bn``. Where the stage's
    stride is replaced by dilation (output stride 8/16), ``pool`` keeps its
    2x2 window at stride 1, taps spaced by the input grid's dilation
    (:class:`~.ShortcutAvgPool`), so the dilated network stays an exact
    resampling of the strided one.

    Args:
        depth (int): 18 or 34.
        binarizer (str | dict | None): Binarization method; None builds the
            FP network. Defaults to ``'bireal'``.
        act_cfg (dict, optional): Activation after each residual addition.
            Defaults to None (identity).
        **kwargs: Other arguments of :class:`~.BinaryResNet`.
    """

    def __init__(self,
                 depth: int,
                 binarizer: Union[None, str, dict] = 'bireal',
                 act_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(depth, binarizer, act_cfg, **kwargs)

    def make_downsample(self, in_channels: int, out_channels: int, stride: int,
                        dilation: int, prev_dilation: int) -> nn.Sequential:
        """[``pool``] + FP 1x1 ``conv`` + ``bn``.

        Args:
            in_channels (int): Input channels.
            out_channels (int): Output channels.
            stride (int): The stage's stride.
            dilation (int): The stage's dilation.
            prev_dilation (int): Input grid's dilation.

        Returns:
            nn.Sequential: ``pool`` (when the stage downsamples or its
            stride was replaced by dilation), ``conv``, ``bn``.
        """
        layers = OrderedDict()
        pool = build_shortcut_pool(stride, dilation, prev_dilation)
        if pool is not None:
            layers['pool'] = pool
        layers['conv'] = build_binary_conv(None, in_channels, out_channels, 1)
        layers['bn'] = build_norm_layer(self.norm_cfg, out_channels)[1]
        return nn.Sequential(layers)
