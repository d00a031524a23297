"""ReActNet-A's block: binary 3x3 conv and binary 1x1 conv(s)."""
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
    Part 2, same channels: ``y = act2(bn2(conv2(out)) + out)`` with a binary
    1x1 conv ``C -> C``. When the channels double, two binary 1x1 convs
    ``C -> C`` (``conv2_1``, ``conv2_2``, each followed by its BN and the
    shortcut ``out``) are concatenated:
    ``y = act2(cat(bn2_1(conv2_1(out)) + out, bn2_2(conv2_2(out)) + out))``.
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
                                       stride, dilation, pad_value)
        self.bn1 = build_norm_layer(norm_cfg, in_channels)[1]
        self.pool = pool
        self.act1 = build_activation(act_cfg, in_channels)
        if self.expand:
            for i in (1, 2):
                self.add_module(
                    f'conv2_{i}',
                    build_binary_conv(
                        binarizer,
                        in_channels,
                        in_channels,
                        1,
                        pad_value=pad_value))
                self.add_module(f'bn2_{i}',
                                build_norm_layer(norm_cfg, in_channels)[1])
        else:
            self.conv2 = build_binary_conv(
                binarizer, in_channels, in_channels, 1, pad_value=pad_value)
            self.bn2 = build_norm_layer(norm_cfg, in_channels)[1]
        self.act2 = build_activation(act_cfg, out_channels)

    def _inner_forward(self, x: Tensor) -> Tensor:
        identity = x if self.pool is None else self.pool(x)
        out = self.act1(self.bn1(self.conv1(x)) + identity)
        if self.expand:
            y = torch.cat([
                self.bn2_1(self.conv2_1(out)) + out,
                self.bn2_2(self.conv2_2(out)) + out
            ], 1)
        else:
            y = self.bn2(self.conv2(out)) + out
        return self.act2(y)
