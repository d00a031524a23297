"""ASPP (DeepLabV3 / DeepLabV3+) depth head."""
from typing import Sequence

import torch
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.utils import resize
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .base_depth_head import BaseDepthHead


@MODELS.register_module()
class ASPPDepthHead(BaseDepthHead):
    """Atrous spatial pyramid pooling head regressing depth.

    DeepLabV3's ASPP (an image-pooling branch and one branch per dilation,
    1x1 for dilation 1, 3x3 otherwise, then a 3x3 bottleneck) on the
    selected feature. With ``c1_in_channels > 0`` it becomes DeepLabV3+:
    the ASPP output is upsampled to the low-level feature
    ``inputs[c1_index]``, concatenated with its 1x1 projection
    (``c1_channels``) and fused by ``num_fuse_convs`` 3x3 convs. Unlike
    mmseg's ``DepthwiseSeparableASPPHead``, every inner conv is a
    ``ConvModule`` built with ``conv_cfg`` (binarizable by config), none is
    depthwise separable. ``conv_depth`` stays FP. With binary inner convs
    pick a signed activation (see :class:`BaseDepthHead`).

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
        **kwargs: :class:`BaseDepthHead` arguments.
    """

    def __init__(self,
                 dilations: Sequence[int] = (1, 6, 12, 18),
                 c1_in_channels: int = 0,
                 c1_channels: int = 48,
                 c1_index: int = 0,
                 num_fuse_convs: int = 2,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if not isinstance(dilations, (list, tuple)) or not dilations or \
                any(int(d) < 1 for d in dilations):
            raise ValueError('ASPPDepthHead: dilations must be a non-empty '
                             f'sequence of ints >= 1, got {dilations!r}')
        if c1_in_channels < 0 or (c1_in_channels > 0 and
                                  (c1_channels < 1 or num_fuse_convs < 1)):
            raise ValueError(
                'ASPPDepthHead: need c1_in_channels >= 0 and, with a '
                'decoder, c1_channels >= 1 and num_fuse_convs >= 1')
        self.dilations = tuple(int(d) for d in dilations)
        self.c1_index = c1_index
        conv_kw = dict(
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(self.in_channels, self.channels, 1, **conv_kw))
        self.aspp_modules = ASPPModule(self.dilations, self.in_channels,
                                       self.channels, **conv_kw)
        self.bottleneck = ConvModule(
            (len(self.dilations) + 1) * self.channels,
            self.channels,
            3,
            padding=1,
            **conv_kw)
        if c1_in_channels > 0:
            self.c1_bottleneck = ConvModule(c1_in_channels, c1_channels, 1,
                                            **conv_kw)
            fuse = [
                ConvModule(
                    self.channels + (c1_channels if i == 0 else 0),
                    self.channels,
                    3,
                    padding=1,
                    **conv_kw) for i in range(num_fuse_convs)
            ]
            self.fuse_convs = nn.Sequential(*fuse)
        else:
            self.c1_bottleneck = None
            self.fuse_convs = None
        self._check_binary_chain()

    def forward(self, inputs) -> Tensor:
        """Depth (N, 1, h, w) in metres from multi-level features."""
        x = self._transform_inputs(inputs)
        outs = [
            resize(
                self.image_pool(x),
                size=x.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
        ]
        outs.extend(self.aspp_modules(x))
        feat = self.bottleneck(torch.cat(outs, dim=1))
        if self.c1_bottleneck is not None:
            c1 = self.c1_bottleneck(inputs[self.c1_index])
            feat = resize(
                feat,
                size=c1.shape[2:],
                mode='bilinear',
                align_corners=self.align_corners)
            feat = self.fuse_convs(torch.cat([feat, c1], dim=1))
        return self.regress_depth(feat)
