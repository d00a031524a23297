"""ResNet basic block with a real-valued shortcut around each binary conv."""
from typing import Optional, Union

from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from .builders import build_activation, build_binary_conv
from .checkpoint_block import CheckpointBlock


class BinaryBasicBlock(CheckpointBlock):
    """Two binary 3x3 convs, each with its own real-valued shortcut.

    ``out = act1(bn1(conv1(x)) + shortcut(x))`` and
    ``y = act2(bn2(conv2(out)) + out)``, the block of Bi-Real Net and of the
    IR-Net/RBNN ResNets: every binary conv's output is added to a real-valued
    tensor, so the information lost by binarization can bypass it.
    ``shortcut`` is ``downsample`` when given, else the identity. Module
    names follow torchvision's ``BasicBlock`` (``conv1``, ``bn1``,
    ``conv2``, ``bn2``, ``downsample``).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of ``conv1``. Defaults to 1.
        dilation (int): Dilation of ``conv2``. Defaults to 1.
        first_dilation (int, optional): Dilation of ``conv1``. When a stage's
            stride is replaced by dilation, the stage's first ``conv1`` keeps
            the previous stage's dilation. Defaults to None (``dilation``).
        downsample (nn.Module, optional): Shortcut of ``conv1`` (needed when
            the stride or the channels change). Defaults to None.
        binarizer (str | dict | None): Binarization method of the convs;
            None for FP convs. Defaults to ``'irnet'``.
        pad_value (float): Value padding the binary convs' inputs.
            Defaults to 1.0.
        binary_roles (dict, optional): Role overrides of the binary convs
            (see :func:`~.build_binary_conv`). Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation after each addition; None for
            none. Defaults to ``dict(type='Hardtanh')``.
        with_cp (bool): Recompute the block in the backward pass
            (``torch.utils.checkpoint``) to save memory. BatchNorm running
            statistics are then updated twice per step. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    expansion = 1

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 first_dilation: Optional[int] = None,
                 downsample: Optional[nn.Module] = None,
                 binarizer: Union[None, str, dict] = 'irnet',
                 pad_value: float = 1.0,
                 binary_roles: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='Hardtanh'),
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if downsample is None and (stride != 1 or in_channels != out_channels):
            raise ValueError(
                f'BinaryBasicBlock: a downsample shortcut is needed for '
                f'stride={stride}, {in_channels} -> {out_channels} channels')
        first_dilation = dilation if first_dilation is None else \
            first_dilation
        self.conv1 = build_binary_conv(binarizer, in_channels, out_channels, 3,
                                       stride, first_dilation, pad_value,
                                       binary_roles)
        self.bn1 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act1 = build_activation(act_cfg, out_channels)
        self.conv2 = build_binary_conv(binarizer, out_channels, out_channels,
                                       3, 1, dilation, pad_value, binary_roles)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act2 = build_activation(act_cfg, out_channels)
        self.downsample = downsample
        self.with_cp = with_cp

    def _inner_forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act1(self.bn1(self.conv1(x)) + identity)
        return self.act2(self.bn2(self.conv2(out)) + out)
