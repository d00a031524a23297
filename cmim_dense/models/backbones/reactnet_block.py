"""ReActNet-A's block: binary 3x3 conv and binary 1x1 conv."""
from typing import Optional, Union

import torch
from mmcv.cnn import build_norm_layer
from torch import Tensor, nn

from .builders import build_activation, build_binary_conv
from .checkpoint_block import CheckpointBlock


class ReActBlock(CheckpointBlock):
    """ReActNet-A block (MobileNetV1 shape, Liu et al. 2020).

    Part 1: ``out = act1(bn1(conv1(x)) + shortcut(x))``, ``conv1`` a binary
    3x3 conv ``C -> C`` with the block's stride, ``shortcut`` the identity or
    ``pool`` (average pooling) when the block downsamples.
    Part 2: ``y = act2(bn2(conv2(out)) + shortcut2(out))`` with ``conv2`` a
    binary 1x1 conv ``C -> out_channels``; ``shortcut2`` is the identity, or
    ``cat(out, out)`` when the channels double.

    A doubling block of the released code (``mobilenet/*/reactnet.py``)
    binarizes ``out`` once, with one learnable shift (``move21``), and feeds
    it to two 1x1 convs ``C -> C`` (``binary_pw_down1/2``) whose BN outputs
    are each added to ``out`` and concatenated. Here those two convs are the
    two halves of ``conv2``'s output channels and ``bn2`` holds both BNs, so
    the one RSign shift (``conv2.input_quantizer.bias``) is shared by
    construction. The forward pass is the same for every binarizer whose
    weight quantizer works per output channel (``reactnet``, ``bireal``,
    ``irnet``, ``bnn``, ``xnor``); one with per-tensor statistics (ReCU's
    clamp bound) or per-layer rotations (RBNN) shares those between the
    halves.

    The activations are RPReLU by default; the binary convs' RSign
    (``binarizer='reactnet'``) holds ReActNet's learnable input shift.

    Args:
        in_channels (int): Input channels ``C``.
        out_channels (int): ``C`` or ``2 * C``.
        stride (int): Stride of ``conv1``. Defaults to 1.
        dilation (int): Dilation of ``conv1``. Defaults to 1.
        pool (nn.Module, optional): Shortcut of part 1 (needed when
            ``stride > 1``). Defaults to None (identity).
        binarizer (str | dict | None): Binarization method; None for FP
            convs. Defaults to ``'reactnet'``.
        pad_value (float): Value padding the binary inputs. Defaults to 1.0.
        binary_roles (dict, optional): Role overrides of the binary convs,
            e.g. ``dict(weight_quantizer=False)`` (see
            :func:`~.build_binary_conv`). Defaults to None.
        norm_cfg (dict): Norm layer config. Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation after each addition (channel
            count filled in); None for none. Defaults to
            ``dict(type='RPReLU')``.
        with_cp (bool): Checkpoint the block. Defaults to False.
        init_cfg (dict, optional): Initialization config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 dilation: int = 1,
                 pool: Optional[nn.Module] = None,
                 binarizer: Union[None, str, dict] = 'reactnet',
                 pad_value: float = 1.0,
                 binary_roles: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: Optional[dict] = dict(type='RPReLU'),
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if out_channels not in (in_channels, 2 * in_channels):
            raise ValueError(f'ReActBlock: out_channels must be in_channels '
                             f'or twice it, got {in_channels} -> '
                             f'{out_channels}')
        if stride > 1 and pool is None:
            raise ValueError(f'ReActBlock: stride={stride} needs a pooling '
                             'shortcut')
        self.expand = out_channels != in_channels
        self.with_cp = with_cp
        self.conv1 = build_binary_conv(binarizer, in_channels, in_channels, 3,
                                       stride, dilation, pad_value,
                                       binary_roles)
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.pool = pool
        self.act1 = build_activation(act_cfg, in_channels)
        self.conv2 = build_binary_conv(
            binarizer,
            in_channels,
            out_channels,
            1,
            pad_value=pad_value,
            binary_roles=binary_roles)
        self.bn2 = build_norm_layer(norm_cfg, out_channels)[1]
        self.act2 = build_activation(act_cfg, out_channels)

    def _inner_forward(self, x: Tensor) -> Tensor:
        identity = x if self.pool is None else self.pool(x)
        out = self.act1(self.bn1(self.conv1(x)) + identity)
        shortcut = torch.cat([out, out], 1) if self.expand else out
        return self.act2(self.bn2(self.conv2(out)) + shortcut)
