"""ASPP (DeepLabV3 / DeepLabV3+) depth head over mmseg's ``ASPPHead``."""
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPHead
from mmseg.models.utils import resize
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .depth_regression_mixin import DepthRegressionMixin


@MODELS.register_module()
class ASPPDepthHead(DepthRegressionMixin, ASPPHead):
    """mmseg's ``ASPPHead`` regressing depth (see :class:`DepthRegressionMixin`).

    DeepLabV3's ASPP (an image-pooling branch and one branch per dilation,
    1x1 for dilation 1, 3x3 otherwise, then a 3x3 bottleneck), all of it
    mmseg's. With ``c1_in_channels > 0`` it becomes DeepLabV3+: the ASPP
    output is upsampled to the low-level feature ``inputs[c1_index]``,
    concatenated with its 1x1 projection (``c1_channels``) and fused by
    ``num_fuse_convs`` 3x3 convs. Unlike mmseg's
    ``DepthwiseSeparableASPPHead``, every inner conv is a ``ConvModule``
    built with ``conv_cfg`` (binarizable by config), none is depthwise
    separable; that decoder is the only code added to ``ASPPHead``.
    ``conv_depth`` stays FP. With binary inner convs pick a signed
    activation.

    Args:
        dilations (Sequence[int]): ASPP dilations. Defaults to
            (1, 6, 12, 18).
        c1_in_channels (int): Channels of the low-level feature; 0 disables
            the decoder (DeepLabV3). Defaults to 0.
        c1_channels (int): Channels of its projection. Defaults to 48.
        c1_index (int): Index of the low-level feature in the backbone
            outputs. Defaults to 0.
        num_fuse_convs (int): 3x3 convs after the concatenation
            (DeepLabV3+ only, >= 1). Defaults to 2.
        **kwargs: :class:`DepthRegressionMixin` and ``BaseDecodeHead``
            arguments.
    """

    def __init__(self,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 c1_in_channels: int = 0,
                 c1_channels: int = 48,
                 c1_index: int = 0,
                 num_fuse_convs: int = 2,
                 **kwargs) -> None:
        if not isinstance(dilations, (list, tuple)) or not dilations or \
                any(int(d) < 1 for d in dilations):
            raise ValueError('ASPPDepthHead: dilations must be a non-empty '
                             f'sequence of ints >= 1, got {dilations!r}')
        if c1_in_channels < 0 or (c1_in_channels > 0 and
                                  (c1_channels < 1 or num_fuse_convs < 1)):
            raise ValueError(
                'ASPPDepthHead: need c1_in_channels >= 0 and, with a '
                'decoder, c1_channels >= 1 and num_fuse_convs >= 1')
        super().__init__(
            dilations=tuple(int(d) for d in dilations), **kwargs)
        self.c1_index = c1_index
        self.c1_bottleneck = None
        self.fuse_convs = None
        if c1_in_channels > 0:
            conv_kw = dict(
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg)
            self.c1_bottleneck = ConvModule(c1_in_channels, c1_channels, 1,
                                            **conv_kw)
            self.fuse_convs = nn.Sequential(*(ConvModule(
                self.channels + (c1_channels if i == 0 else 0),
                self.channels,
                3,
                padding=1,
                **conv_kw) for i in range(num_fuse_convs)))
        self._check_binary_chain()

    def _forward_feature(self, inputs) -> Tensor:
        """ASPP feature, refined by the DeepLabV3+ decoder when it exists."""
        feat = super()._forward_feature(inputs)
        if self.c1_bottleneck is None:
            return feat
        c1 = self.c1_bottleneck(inputs[self.c1_index])
        feat = resize(
            feat,
            size=c1.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)
        return self.fuse_convs(torch.cat([feat, c1], dim=1))
