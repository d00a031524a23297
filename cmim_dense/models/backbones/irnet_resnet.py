"""IR-Net / RBNN / ReCU style binary ResNet (their ImageNet ResNet-18/34)."""
from collections import OrderedDict
from typing import Optional, Union

from mmcv.cnn import build_norm_layer
from torch import nn

from cmim_dense.registry import MODELS
from .binary_resnet import BinaryResNet
from .builders import build_binary_conv


@MODELS.register_module()
class IRNetResNet(BinaryResNet):
    """Binary ResNet-18/34 of the ImageNet code of IR-Net, RBNN and ReCU.

    The three released ImageNet ResNets (IR-Net ``ImageNet/ResNet18/1w1a``
    and ``ResNet34``, RBNN ``imagenet/models/resnet.py``, ReCU
    ``imagenet/models_imagenet/resnet.py``) share this network; they differ
    only by the binary conv (``binarizer='irnet'``, ``'rbnn'``, ``'recu'``):

    - stem: FP 7x7 conv (stride 2), BN, **Hardtanh**, 3x3 max-pool;
    - block: each binary 3x3 conv has its own shortcut,
      ``out = act(bn1(conv1(x)) + shortcut(x))``,
      ``y = act(bn2(conv2(out)) + out)``, ``act`` Hardtanh;
    - downsample shortcut (first block of stages 2-4): **FP** 1x1 conv with
      the stage's stride and BN, ``layerK.0.downsample.conv`` / ``.bn``.

    ``downsample_binary=True`` binarizes that 1x1 conv, as the authors'
    CIFAR ResNets do (option B). This is not the network of CMIM's released
    code, which trains a CIFAR ResNet-18 (3x3 stem, its own block). See
    ``docs/pretrained.md`` to start from the authors' ImageNet checkpoints.

    Args:
        depth (int): 18 or 34.
        binarizer (str | dict | None): Binarization method; None builds the
            FP network. Defaults to ``'irnet'``.
        act_cfg (dict, optional): Activation after each residual addition;
            None for identity. Defaults to ``dict(type='Hardtanh')``.
        stem_act_cfg (dict, optional): Activation after the stem's BN; None
            for none. Defaults to ``dict(type='Hardtanh')``.
        downsample_binary (bool): Binarize the 1x1 downsample conv (the
            CIFAR ResNets); False keeps it FP (the ImageNet ResNets).
            Defaults to False.
        **kwargs: Other arguments of :class:`~.BinaryResNet` (``strides``,
            ``dilations``, ``out_indices``, ``binary_roles``, ``init_cfg``,
            ...).
    """

    def __init__(self,
                 depth: int,
                 binarizer: Union[None, str, dict] = 'irnet',
                 act_cfg: Optional[dict] = dict(type='Hardtanh'),
                 stem_act_cfg: Optional[dict] = dict(type='Hardtanh'),
                 downsample_binary: bool = False,
                 **kwargs) -> None:
        self.downsample_binary = downsample_binary
        super().__init__(
            depth, binarizer, act_cfg, stem_act_cfg=stem_act_cfg, **kwargs)

    def make_downsample(self, in_channels: int, out_channels: int, stride: int,
                        dilation: int, prev_dilation: int) -> nn.Sequential:
        """1x1 conv (FP unless ``downsample_binary``) + BN.

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
                                       stride, 1, self.pad_value,
                                       self.binary_roles),
                bn=build_norm_layer(self.norm_cfg, out_channels)[1]))
