"""Backbone blocks whose binary convs, BNs, shortcut adds and activations
run in the engine's output step."""
from typing import Optional

import torch
from torch import Tensor, nn

from cmim_dense.models.backbones.binary_basic_block import BinaryBasicBlock
from cmim_dense.models.backbones.reactnet_block import ReActBlock
from .engine_conv import EngineConv2d


def _engine_conv(conv: nn.Module,
                 bn: nn.Module,
                 act: Optional[nn.Module],
                 name: str,
                 channels: Optional[slice] = None) -> EngineConv2d:
    layer = EngineConv2d.from_binary_conv(conv, name)
    layer.fuse_bn(bn)
    layer.fuse_act(act, channels)
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

    Part 1 as :class:`EngineBasicBlock`'s convs; when the channels double,
    ``conv2_1`` and ``conv2_2`` write the two halves of one NHWC buffer (the
    concatenation costs nothing) with their halves of ``act2``.

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
        if self.expand:
            c = block.conv1.out_channels
            self.conv2_1 = _engine_conv(block.conv2_1, block.bn2_1, block.act2,
                                        f'{name}.conv2_1', slice(0, c))
            self.conv2_2 = _engine_conv(block.conv2_2, block.bn2_2, block.act2,
                                        f'{name}.conv2_2', slice(c, 2 * c))
        else:
            self.conv2 = _engine_conv(block.conv2, block.bn2, block.act2,
                                      f'{name}.conv2')

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.pool is None else self.pool(x)
        out = self.conv1(x, identity)
        if not self.expand:
            return self.conv2(out, out)
        n, c, h, w = out.shape
        y = torch.empty((n, h, w, 2 * c), dtype=out.dtype,
                        device=out.device).permute(0, 3, 1, 2)
        self.conv2_1(out, out, out=y[:, :c])
        self.conv2_2(out, out, out=y[:, c:])
        return y
