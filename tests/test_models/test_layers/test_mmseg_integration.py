"""BinaryConv2d inside mmcv/mmseg modules, built by ``conv_cfg``.

What mmseg does with ``conv_cfg`` (checked below): ``ResNet`` passes it to
EVERY conv: the stem (so the RGB stem is binary too, unlike the BNN
convention: keep it FP with ``binarize_modules`` instead if needed), both
BasicBlock convs and the downsample 1x1 convs; ``ResNetV1c`` also to the
three deep-stem convs. Decode heads pass it to every ``ConvModule``
(``FCNHead.convs``/``conv_cat``, ``ASPPHead`` ASPP branches, image pool and
bottleneck) but build ``conv_seg`` as a plain ``nn.Conv2d``: the classifier
stays FP.
"""
# cmim_dense first: it installs the mmcv-lite shims before mmseg is imported
import cmim_dense  # noqa: F401,I001
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import DefaultScope, init_default_scope
from mmengine.structures import PixelData
from mmseg.models.backbones import ResNet
from mmseg.models.decode_heads import ASPPHead, FCNHead
from mmseg.registry import MODELS as MMSEG_MODELS
from mmseg.structures import SegDataSample
from torch import nn

from cmim_dense.models.layers import BinaryConv2d

BN = dict(type='BN')
IRNET = dict(type='BinaryConv2d', binarizer='irnet')
BIREAL = dict(type='BinaryConv2d', binarizer='bireal')


@pytest.fixture(params=[None, 'get_instance', 'init_default_scope'])
def scope(request, monkeypatch):
    """No default scope, or 'mmseg' set the two usual ways; restored after."""
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    if request.param == 'get_instance':
        DefaultScope.get_instance('cmim-test', scope_name='mmseg')
    elif request.param == 'init_default_scope':
        init_default_scope('mmseg')
    current = DefaultScope.get_current_instance()
    name = None if current is None else current.scope_name
    assert name == (None if request.param is None else 'mmseg')
    return name


def pm1(x):
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def binary_convs(module):
    return {
        n: m
        for n, m in module.named_modules() if isinstance(m, BinaryConv2d)
    }


def fp_convs(module):
    return {n: m for n, m in module.named_modules() if type(m) is nn.Conv2d}


def test_resnet18_all_convs_binary():
    model = ResNet(
        depth=18,
        stem_channels=8,
        base_channels=8,
        conv_cfg=IRNET,
        norm_cfg=BN)
    binary = binary_convs(model)
    assert fp_convs(model) == {}
    assert 'conv1' in binary  # the stem: mmseg passes conv_cfg to it too
    assert binary['conv1'].in_channels == 3
    for stage in range(1, 5):
        for block in range(2):
            for conv in ('conv1', 'conv2'):
                assert f'layer{stage}.{block}.{conv}' in binary
    for stage in range(2, 5):
        assert f'layer{stage}.0.downsample.0' in binary
    assert len(binary) == 20
    assert all(m.binarizer == 'irnet' and m.is_binary for m in binary.values())
    assert binary['layer2.0.conv1'].stride == (2, 2)

    outs = model(torch.randn(1, 3, 64, 64))
    assert [tuple(o.shape) for o in outs] == [(1, 8, 16, 16), (1, 16, 8, 8),
                                              (1, 32, 4, 4), (1, 64, 2, 2)]
    assert all(torch.isfinite(o).all() for o in outs)

    # the backward pass reaches every binary conv's latent weight
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.pow(2).sum() for o in outs).backward()
    for name, conv in binary.items():
        assert conv.weight.grad is not None, name
    assert binary['conv1'].weight.grad.abs().sum() > 0


def test_resnet18_known_limitation_relu_before_sign():
    """Known limitation of a drop-in ``conv_cfg`` (not a layer bug): a
    BasicBlock conv reads the previous block's post-ReLU output, so its
    binary input is +1 everywhere; with the binary downsample of layer2 the
    stages 2-4 no longer depend on the image. A working binary backbone
    needs Bi-Real/ReActNet-style blocks."""
    model = ResNet(
        depth=18,
        stem_channels=8,
        base_channels=8,
        conv_cfg=IRNET,
        norm_cfg=BN)
    model.eval()  # mmseg's ResNet.train() returns None: no chaining
    seen = []
    model.layer2[0].conv1.input_quantizer.register_forward_hook(
        lambda m, i, o: seen.append(o))
    with torch.no_grad():
        outs_a = model(torch.randn(1, 3, 64, 64))
        outs_b = model(torch.randn(1, 3, 64, 64))
    assert torch.equal(seen[0], torch.ones_like(seen[0]))
    assert not torch.equal(outs_a[0], outs_b[0])  # identity path of layer1
    for a, b in zip(outs_a[1:], outs_b[1:]):
        assert torch.equal(a, b)


def test_resnetv1c_deep_stem_binary():
    model = MMSEG_MODELS.build(
        dict(
            type='ResNetV1c',
            depth=18,
            stem_channels=8,
            base_channels=8,
            conv_cfg=IRNET,
            norm_cfg=BN))
    binary = binary_convs(model)
    assert {'stem.0', 'stem.3', 'stem.6'} <= set(binary)
    assert fp_convs(model) == {}
    model.eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 32, 32))
    assert outs[-1].shape == (1, 64, 1, 1)


def fcn_cfg(conv_cfg=BIREAL):
    return dict(
        type='FCNHead',
        in_channels=16,
        channels=8,
        num_convs=2,
        concat_input=True,
        num_classes=3,
        conv_cfg=conv_cfg,
        norm_cfg=BN)


def test_fcn_head_binary_inner_convs_fp_classifier():
    cfg = fcn_cfg()
    cfg.pop('type')
    head = FCNHead(**cfg)
    assert set(binary_convs(head)) == {
        'convs.0.conv', 'convs.1.conv', 'conv_cat.conv'
    }
    assert set(fp_convs(head)) == {'conv_seg'}
    assert all(m.binarizer == 'bireal' for m in binary_convs(head).values())
    # ConvModule with a norm: no conv bias; the kernel's padding kept
    conv = head.convs[0].conv
    assert conv.bias is None and conv.padding == (1, 1)

    x = torch.randn(2, 16, 8, 8, requires_grad=True)
    out = head([x])
    assert out.shape == (2, 3, 8, 8) and torch.isfinite(out).all()
    out.pow(2).sum().backward()
    for name, m in binary_convs(head).items():
        assert m.weight.grad is not None, name
    # the first conv reads the (signed) input: a real gradient
    assert conv.weight.grad.abs().sum() > 0
    assert x.grad.abs().sum() > 0

    # the ConvModule's conv is the +1 padded binary conv
    with torch.no_grad():
        qw = conv.weight_quantizer(conv.weight)
        expected = F.conv2d(F.pad(pm1(x), (1, 1, 1, 1), value=1.0), qw)
        torch.testing.assert_close(conv(x), expected)


def test_aspp_head_dilated_binary_convs():
    head = ASPPHead(
        in_channels=16,
        channels=8,
        dilations=(1, 2, 3),
        num_classes=3,
        conv_cfg=BIREAL,
        norm_cfg=BN)
    binary = binary_convs(head)
    assert set(binary) == {
        'image_pool.1.conv', 'aspp_modules.0.conv', 'aspp_modules.1.conv',
        'aspp_modules.2.conv', 'bottleneck.conv'
    }
    assert set(fp_convs(head)) == {'conv_seg'}
    # mmseg's ASPP: 1x1 for dilation 1, 3x3 with padding = dilation else
    assert head.aspp_modules[0].conv.kernel_size == (1, 1)
    for i, d in ((1, 2), (2, 3)):
        conv = head.aspp_modules[i].conv
        assert conv.kernel_size == (3, 3)
        assert conv.dilation == (d, d) and conv.padding == (d, d)

    x = torch.randn(2, 16, 8, 8)
    out = head([x])
    assert out.shape == (2, 3, 8, 8) and torch.isfinite(out).all()
    out.pow(2).sum().backward()
    for i in range(3):
        grad = head.aspp_modules[i].conv.weight.grad
        assert grad is not None and grad.abs().sum() > 0

    conv = head.aspp_modules[2].conv
    with torch.no_grad():
        y = conv(x)
        qw = conv.weight_quantizer(conv.weight)
        expected = F.conv2d(
            F.pad(pm1(x), (3, 3, 3, 3), value=1.0), qw, dilation=3)
    assert y.shape[-2:] == x.shape[-2:]
    torch.testing.assert_close(y, expected)


def test_build_under_each_scope(scope):
    head = MMSEG_MODELS.build(fcn_cfg(IRNET))
    assert isinstance(head, FCNHead)
    assert set(binary_convs(head)) == {
        'convs.0.conv', 'convs.1.conv', 'conv_cat.conv'
    }
    assert head([torch.randn(1, 16, 4, 4)]).shape == (1, 3, 4, 4)

    conv_cfg = dict(
        type='BinaryConv2d',
        in_channels=4,
        out_channels=8,
        kernel_size=3,
        binarizer='irnet')
    for registry in (MMSEG_MODELS, MMENGINE_MODELS):
        conv = registry.build(conv_cfg)
        assert type(conv) is BinaryConv2d and conv.binarizer == 'irnet'
    conv = build_conv_layer(
        dict(type='BinaryConv2d', binarizer='xnor', pad_value=0),
        4,
        8,
        3,
        padding=1)
    assert type(conv) is BinaryConv2d and conv.pad_value == 0.0
    module = ConvModule(4, 8, 3, padding=1, conv_cfg=IRNET, norm_cfg=BN)
    assert type(module.conv) is BinaryConv2d
    # quantizers are found whatever the default scope
    assert type(module.conv.input_quantizer).__name__ == 'EDESign'
    assert module(torch.randn(2, 4, 5, 5)).shape == (2, 8, 5, 5)


def test_conv_cfg_errors_surface(scope):
    with pytest.raises(ValueError, match='unknown binarizer'):
        build_conv_layer(dict(type='BinaryConv2d', binarizer='nope'), 4, 8, 3)


def test_encoder_decoder_loss_backward():
    init = dict(type='BinaryConv2d', binarizer='irnet')
    model = MMSEG_MODELS.build(
        dict(
            type='EncoderDecoder',
            backbone=dict(
                type='ResNetV1c',
                depth=18,
                stem_channels=8,
                base_channels=8,
                out_indices=(3, ),
                conv_cfg=init,
                norm_cfg=BN),
            decode_head=dict(
                type='FCNHead',
                in_channels=64,
                channels=8,
                num_convs=1,
                num_classes=3,
                conv_cfg=init,
                norm_cfg=BN,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0))))
    model.train()
    inputs = torch.randn(2, 3, 32, 32)
    samples = []
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 3, (1, 32, 32)))
        samples.append(sample)
    losses = model(inputs, samples, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(loss)
    loss.backward()
    head_conv = model.decode_head.convs[0].conv
    assert type(head_conv) is BinaryConv2d
    assert head_conv.weight.grad is not None
    assert type(model.decode_head.conv_seg) is nn.Conv2d
    assert model.decode_head.conv_seg.weight.grad.abs().sum() > 0
