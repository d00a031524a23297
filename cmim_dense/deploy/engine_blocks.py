"""Backbone blocks whose binary convs, BNs, shortcut adds and activations
run in the engine's output step."""
from typing import Optional

import torch
from torch import Tensor, nn

from cmim_dense.models.backbones.binary_basic_block import BinaryBasicBlock
from cmim_dense.models.backbones.reactnet_block import ReActBlock
from .engine_conv import EngineConv2d


def _engine_conv(conv: nn.Module, bn: nn.Module, act: Optional[nn.Module],
                 name: str) -> EngineConv2d:
    layer = EngineConv2d.from_binary_conv(conv, name)
    layer.fuse_bn(bn)
    layer.fuse_act(act)
    return layer


class EngineBasicBlock(nn.Module):
    """:class:`BinaryBasicBlock` on the engine.

    ``out = conv1(x, residual=shortcut(x))`` and
    ``y = conv2(out, residual=out)``, each :class:`EngineConv2d` holding its
    BN and activation; the (FP) downsample shortcut stays PyTorch.

    Args:
        block (BinaryBasicBlock): The trained block (eval mode).
        name (str): Its name, for error messages. Defaults to 'block'.
    """

    def __init__(self, block: BinaryBasicBlock, name: str = 'block') -> None:
        super().__init__()
        self.conv1 = _engine_conv(block.conv1, block.bn1, block.act1,
                                  f'{name}.conv1')
        self.conv2 = _engine_conv(block.conv2, block.bn2, block.act2,
                                  f'{name}.conv2')
        self.downsample = block.downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv1(x, identity)
        return self.conv2(out, out)


class EngineReActBlock(nn.Module):
    """:class:`ReActBlock` on the engine.

    ``out = conv1(x, residual=shortcut(x))`` and
    ``y = conv2(out, residual=out)``, or, when ``conv2`` doubles the
    channels, ``residual=cat([out, out])``; each conv holds its BN and
    activation.

    Args:
        block (ReActBlock): The trained block (eval mode).
        name (str): Its name, for error messages. Defaults to 'block'.
    """

    def __init__(self, block: ReActBlock, name: str = 'block') -> None:
        super().__init__()
        self.expand = block.expand
        self.pool = block.pool
        self.conv1 = _engine_conv(block.conv1, block.bn1, block.act1,
                                  f'{name}.conv1')
        self.conv2 = _engine_conv(block.conv2, block.bn2, block.act2,
                                  f'{name}.conv2')

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.pool is None else self.pool(x)
        out = self.conv1(x, identity)
        shortcut = torch.cat([out, out], 1) if self.expand else out
        return self.conv2(out, shortcut)
