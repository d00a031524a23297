"""Tests specific to the binary ResNets (IRNetResNet, BiRealResNet)."""
import pytest
import torch
import torchvision
from tiny_backbones import build_tiny
from torch import nn

import cmim_dense
from cmim_dense.models.backbones import BinaryBasicBlock, IRNetResNet
from cmim_dense.models.backbones.shortcut_pool import ShortcutAvgPool
from cmim_dense.models.layers import BinaryConv2d

RESNETS = ('IRNetResNet', 'BiRealResNet')


@pytest.mark.parametrize('binarizer', cmim_dense.available_binarizers())
def test_irnet_resnet_every_binarizer(binarizer):
    model = build_tiny('IRNetResNet', binarizer=binarizer)
    outs = model(torch.randn(2, 3, 64, 64))
    assert [tuple(o.shape[1:]) for o in outs] == [(8, 16, 16), (16, 8, 8),
                                                  (32, 4, 4), (64, 2, 2)]
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    # the 16 block convs; the stem and the 1x1 downsamples stay FP
    assert len(convs) == 16
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
    """FP 1x1 conv + BN (the ImageNet ResNets); binary as an option (the
    authors' CIFAR ResNets)."""
    model = build_tiny('IRNetResNet')
    assert model.layer1[0].downsample is None
    for stage in (model.layer2, model.layer3, model.layer4):
        down = stage[0].downsample
        assert list(dict(down.named_children())) == ['conv', 'bn']
        assert type(down.conv) is nn.Conv2d
        assert down.conv.stride == (2, 2) and down.conv.kernel_size == (1, 1)
        assert isinstance(down.bn, nn.BatchNorm2d)
    binary = build_tiny('IRNetResNet', downsample_binary=True)
    down = binary.layer2[0].downsample.conv
    assert isinstance(down, BinaryConv2d) and down.is_binary
    assert down.binarizer == 'irnet'


def test_irnet_stem_and_activations():
    """Stem: FP 7x7 conv, BN, Hardtanh, max-pool; Hardtanh after each of
    the two additions of a block (IR-Net / RBNN / ReCU ImageNet code)."""
    model = build_tiny('IRNetResNet')
    assert type(model.conv1) is nn.Conv2d
    assert (model.conv1.kernel_size, model.conv1.stride) == ((7, 7), (2, 2))
    assert isinstance(model.bn1, nn.BatchNorm2d)
    assert type(model.stem_act) is nn.Hardtanh
    assert isinstance(model.maxpool, nn.MaxPool2d)
    blocks = [b for i in range(1, 5) for b in getattr(model, f'layer{i}')]
    assert all(
        type(b.act1) is nn.Hardtanh and type(b.act2) is nn.Hardtanh
        for b in blocks)
    assert all(
        isinstance(b.conv1, BinaryConv2d) and b.conv1.is_binary
        and isinstance(b.conv2, BinaryConv2d) and b.conv2.is_binary
        for b in blocks)
    # the stem activation acts: no Hardtanh, other outputs
    x = torch.randn(1, 3, 32, 32) * 5
    plain = build_tiny('IRNetResNet', stem_act_cfg=None)
    plain.load_state_dict(model.state_dict())
    assert type(plain.stem_act) is nn.Identity
    model.eval(), plain.eval()
    with torch.no_grad():
        assert not torch.equal(model(x)[0], plain(x)[0])


def test_binary_roles_keep_fp_weights():
    """``binary_roles=dict(weight_quantizer=False)``: binary activations,
    FP weights in every binary conv."""
    model = build_tiny(
        'IRNetResNet', binary_roles=dict(weight_quantizer=False))
    convs = [m for m in model.modules() if isinstance(m, BinaryConv2d)]
    assert len(convs) == 16
    assert all(c.weight_quantizer is None and c.input_quantizer is not None
               for c in convs)
    with pytest.raises(ValueError, match=r"unknown role\(s\) \['weights'\]"):
        build_tiny('IRNetResNet', binary_roles=dict(weights=False))


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
    for conv in (model.layer1[0].conv1, model.layer4[0].conv2):
        assert conv.binarizer == 'irnet'
        assert conv.input_quantizer.grad.t_min == 1e-3
        assert conv.weight_quantizer.grad.t_max == 1.0
