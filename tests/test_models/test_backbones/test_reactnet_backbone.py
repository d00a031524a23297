"""Tests specific to the ReActNet-A backbone."""
import pytest
import torch
from tiny_backbones import build_tiny
from torch import nn

import cmim_dense
from cmim_dense.models.backbones import ReActBlock, ReActNet
from cmim_dense.models.layers import BinaryConv2d, RPReLU


def test_channel_plan():
    """The 13 blocks of ReActNet-A at full width (built, not run)."""
    model = ReActNet()
    blocks = [b for i in range(1, 5) for b in getattr(model, f'layer{i}')]
    assert len(blocks) == 13
    plan = [(b.conv1.in_channels,
             2 * b.conv1.in_channels if b.expand else b.conv1.in_channels,
             b.conv1.stride[0]) for b in blocks]
    assert plan == [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2),
                    (256, 256, 1),
                    (256, 512, 2)] + [(512, 512, 1)] * 5 + [(512, 1024, 2),
                                                            (1024, 1024, 1)]
    assert model.out_channels == (128, 256, 512, 1024)
    assert model.conv1.stride == (2, 2) and model.conv1.out_channels == 32
    assert type(model.conv1) is nn.Conv2d


def test_block_structure():
    model = build_tiny('ReActNet')
    down = model.layer2[0]  # 16 -> 32 channels, stride 2
    assert down.expand and down.pool is not None
    assert isinstance(down.conv2_1, BinaryConv2d)
    assert down.conv2_1.kernel_size == (1, 1)
    assert down.conv2_1.out_channels == down.conv2_2.out_channels == 16
    assert isinstance(down.act1, RPReLU) and isinstance(down.act2, RPReLU)
    assert down.act2.slope.numel() == 32
    same = model.layer2[1]
    assert not same.expand and same.pool is None
    assert hasattr(same, 'conv2') and not hasattr(same, 'conv2_1')
    # RSign is the default activation quantizer
    assert type(same.conv1.input_quantizer).__name__ == 'RSign'


@pytest.mark.parametrize('binarizer', ['reactnet', 'irnet', 'bireal', None])
def test_binarizers(binarizer):
    model = build_tiny('ReActNet', binarizer=binarizer)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(16, 16, 16), (32, 8, 8),
                                                  (64, 4, 4), (128, 2, 2)]
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    # 13 3x3 convs + 13 1x1 parts, 5 of which (channel doubling) have two
    assert len(convs) == (0 if binarizer is None else 31)


def test_widen_factor():
    model = build_tiny('ReActNet', widen_factor=0.25)
    assert model.out_channels == (32, 64, 128, 256)
    with pytest.raises(ValueError, match='widen_factor'):
        build_tiny('ReActNet', widen_factor=0)


def test_output_stride_8_layout():
    model = build_tiny(
        'ReActNet', strides=(2, 2, 1, 1), dilations=(1, 1, 2, 4))
    first = model.layer3[0]
    assert first.conv1.stride == (1, 1) and first.conv1.dilation == (1, 1)
    assert (first.pool.stride, first.pool.dilation) == (1, 1)
    assert all(b.conv1.dilation == (2, 2) for b in model.layer3[1:])
    first = model.layer4[0]
    assert first.conv1.dilation == (2, 2)
    assert (first.pool.stride, first.pool.dilation) == (1, 2)
    assert model.layer4[1].conv1.dilation == (4, 4)


def test_frozen_stem_and_stage():
    model = build_tiny('ReActNet', frozen_stages=1)
    model.train()
    assert not model.bn1.training and not model.layer1[2].bn2.training
    assert not any(p.requires_grad for p in model.layer1.parameters())
    assert model.layer2[0].conv1.input_quantizer.bias.requires_grad


def test_block_arguments():
    with pytest.raises(ValueError, match='out_channels'):
        ReActBlock(8, 24)
    with pytest.raises(ValueError, match='pooling'):
        ReActBlock(8, 16, stride=2)
    assert 'reactnet' in cmim_dense.available_binarizers()
