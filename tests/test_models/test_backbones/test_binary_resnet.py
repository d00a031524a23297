"""Tests specific to the binary ResNets (IRNetResNet, BiRealResNet)."""
import pytest
import torch
import torchvision
from tiny_backbones import build_tiny
from torch import nn

import cmim_dense
from cmim_dense.models.backbones import (BinaryBasicBlock, IRNetResNet,
                                         ShortcutAvgPool)
from cmim_dense.models.layers import BinaryConv2d

RESNETS = ('IRNetResNet', 'BiRealResNet')


@pytest.mark.parametrize('binarizer', cmim_dense.available_binarizers())
def test_irnet_resnet_every_binarizer(binarizer):
    model = build_tiny('IRNetResNet', binarizer=binarizer)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 16, 16), (16, 8, 8),
                                                  (32, 4, 4), (64, 2, 2)]
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    # 16 block convs + 3 binary downsample convs; the stem stays FP
    assert len(convs) == 19
    assert all(c.binarizer == binarizer and c.is_binary for c in convs)
    assert type(model.conv1) is nn.Conv2d


@pytest.mark.parametrize('binarizer', ['bireal', 'reactnet', 'xnor', None])
def test_bireal_resnet_binarizers(binarizer):
    model = build_tiny('BiRealResNet', binarizer=binarizer)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 2]
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    assert len(convs) == (0 if binarizer is None else 16)


@pytest.mark.parametrize('name', RESNETS)
def test_depth34(name):
    model = build_tiny(name, depth=34)
    assert [len(getattr(model, f'layer{i}')) for i in range(1, 5)] == \
        [3, 4, 6, 3]
    outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 16, 16), (16, 8, 8),
                                                  (32, 4, 4), (64, 2, 2)]


@pytest.mark.parametrize('depth', [18, 34])
def test_module_names_follow_torchvision(depth):
    ours = dict(IRNetResNet(depth, binarizer=None).named_modules())
    reference = getattr(torchvision.models, f'resnet{depth}')(weights=None)
    for name, module in reference.named_modules():
        if isinstance(module, nn.Conv2d):
            name = name.replace('downsample.0', 'downsample.conv')
            assert isinstance(ours[name], nn.Conv2d), name
            assert ours[name].weight.shape == module.weight.shape, name
        elif isinstance(module, nn.BatchNorm2d):
            name = name.replace('downsample.1', 'downsample.bn')
            assert isinstance(ours[name], nn.BatchNorm2d), name


def test_output_stride_8_conv_layout():
    """DeepLab's conversion: the conv that had the stride keeps the previous
    dilation (stride 1); every later conv of the stage uses the new one."""
    model = build_tiny(
        'IRNetResNet', strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))

    def geometry(conv):
        return conv.stride[0], conv.dilation[0], conv.padding[0]

    assert geometry(model.layer2[0].conv1) == (2, 1, 1)
    for stage, prev, new in ((model.layer3, 1, 2), (model.layer4, 2, 4)):
        assert geometry(stage[0].conv1) == (1, prev, prev)
        assert geometry(stage[0].conv2) == (1, new, new)
        assert geometry(stage[1].conv1) == (1, new, new)
        assert geometry(stage[1].conv2) == (1, new, new)
        assert stage[0].downsample.conv.stride == (1, 1)


def test_irnet_downsample():
    model = build_tiny('IRNetResNet')
    assert model.layer1[0].downsample is None
    down = model.layer2[0].downsample
    assert list(dict(down.named_children())) == ['conv', 'bn']
    assert isinstance(down.conv, BinaryConv2d) and down.conv.is_binary
    assert down.conv.stride == (2, 2) and down.conv.kernel_size == (1, 1)
    fp_down = build_tiny('IRNetResNet', downsample_binary=False)
    assert type(fp_down.layer2[0].downsample.conv) is nn.Conv2d
    assert isinstance(fp_down.layer2[0].conv1, BinaryConv2d)


def test_bireal_downsample():
    model = build_tiny(
        'BiRealResNet', strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4))
    down = model.layer2[0].downsample
    assert list(dict(down.named_children())) == ['pool', 'conv', 'bn']
    assert isinstance(down.pool, ShortcutAvgPool)
    assert (down.pool.stride, down.pool.dilation) == (2, 1)
    assert type(down.conv) is nn.Conv2d and down.conv.stride == (1, 1)
    # stride replaced by dilation: the pool keeps its window at stride 1
    pool = model.layer4[0].downsample.pool
    assert (pool.kernel_size, pool.stride, pool.dilation) == (2, 1, 2)


def test_activations():
    irnet = build_tiny('IRNetResNet')
    assert isinstance(irnet.layer1[0].act1, nn.Hardtanh)
    assert isinstance(build_tiny('BiRealResNet').layer1[0].act2, nn.Identity)
    assert isinstance(
        build_tiny('IRNetResNet', act_cfg=None).layer1[0].act1, nn.Identity)
    prelu = build_tiny('IRNetResNet', act_cfg=dict(type='PReLU'))
    assert prelu.layer3[0].act2.weight.numel() == 32


@pytest.mark.parametrize('name', RESNETS)
@pytest.mark.parametrize('depth', [50, 101, 'x'])
def test_unknown_depth(name, depth):
    with pytest.raises(ValueError, match=r'depth.*\[18, 34\]'):
        build_tiny(name, depth=depth)


def test_block_needs_downsample():
    with pytest.raises(ValueError, match='downsample'):
        BinaryBasicBlock(8, 16, stride=2)


def test_binarizer_config_dict():
    model = build_tiny(
        'IRNetResNet', binarizer=dict(type='irnet', t_min=1e-3, t_max=1.0))
    for conv in (model.layer1[0].conv1, model.layer4[0].downsample.conv):
        assert conv.binarizer == 'irnet'
        assert conv.input_quantizer.grad.t_min == 1e-3
        assert conv.weight_quantizer.grad.t_max == 1.0
