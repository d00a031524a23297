"""Behaviour shared by every binary backbone (IR-Net / Bi-Real ResNets and
ReActNet), each in its tiny configuration."""
from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import DefaultScope, init_default_scope
from tiny_backbones import (BACKBONES, OUTPUT_STRIDE, TINY_CHANNELS,
                            build_tiny, randomize_norms)
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from cmim_dense.models.backbones import BiRealResNet, IRNetResNet, ReActNet
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.registry import MODELS

QUANTIZER_ROLES = ('input_quantizer', 'weight_quantizer', 'output_scale')


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def binary_convs(model):
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, BinaryConv2d) and m.is_quantized]


@pytest.mark.parametrize('name', BACKBONES)
def test_default_strides(name):
    model = build_tiny(name)
    outs = model(torch.randn(1, 3, 64, 64))
    assert model.out_channels == TINY_CHANNELS[name]
    assert [tuple(o.shape) for o in outs
            ] == [(1, c, 64 // s, 64 // s)
                  for c, s in zip(TINY_CHANNELS[name], (4, 8, 16, 32))]


@pytest.mark.parametrize('name', BACKBONES)
@pytest.mark.parametrize('output_stride', [8, 16])
def test_output_stride_shapes(name, output_stride):
    strides, dilations = OUTPUT_STRIDE[name][output_stride]
    model = build_tiny(
        name, strides=strides, dilations=dilations, out_indices=(1, 2, 3))
    outs = model(torch.randn(1, 3, 64, 64))
    expected = (8, 8, 8) if output_stride == 8 else (8, 16, 16)
    assert [tuple(o.shape) for o in outs
            ] == [(1, c, 64 // s, 64 // s)
                  for c, s in zip(TINY_CHANNELS[name][1:], expected)]


@pytest.mark.parametrize('name', BACKBONES)
@pytest.mark.parametrize('size', [(64, 64), (69, 83)])
def test_dilated_network_resamples_strided_one_exactly(name, size):
    """OS8/OS16 outputs sampled every 2 / 4 positions equal the OS32 ones
    with the same weights (eval mode, +-1 padding).

    In float64: the dilated and the strided convs sum the same products in a
    different order (oneDNN picks other kernels), so scaled binary weights
    (Bi-Real, ReActNet) differ in the last bits; in float32 such a rounding
    difference is sometimes amplified by a later sign.
    """
    # each backbone's default binarizer ('irnet', 'bireal', 'reactnet')
    kwargs = dict(binarizer='irnet') if name == 'IRNetResNet' else {}
    reference = build_tiny(name, **kwargs)
    randomize_norms(reference)
    reference.eval().double()
    x = torch.randn(2, 3, *size, dtype=torch.float64)
    with torch.no_grad():
        expected = reference(x)
        for output_stride, steps in ((8, (1, 1, 2, 4)), (16, (1, 1, 1, 2))):
            strides, dilations = OUTPUT_STRIDE[name][output_stride]
            model = build_tiny(
                name, strides=strides, dilations=dilations, **kwargs)
            model.load_state_dict(reference.state_dict())
            model.eval().double()
            for i, (out, ref,
                    step) in enumerate(zip(model(x), expected, steps)):
                sampled = out[..., ::step, ::step]
                assert sampled.shape == ref.shape, (output_stride, i)
                torch.testing.assert_close(
                    sampled,
                    ref,
                    rtol=0,
                    atol=1e-9,
                    msg=f'output stride {output_stride}, stage {i}')


@pytest.mark.parametrize('name', BACKBONES)
def test_dilated_fp_network_resamples_strided_one(name):
    """Same with FP convs (binarizer=None), up to float summation order
    (float64: in float32 the outputs of the unnormalised FP ReActNet reach
    magnitudes where the kernels' different summation orders exceed
    ``assert_close``'s float32 tolerance)."""
    reference = build_tiny(name, binarizer=None)
    randomize_norms(reference)
    reference.eval().double()
    strides, dilations = OUTPUT_STRIDE[name][8]
    model = build_tiny(
        name, binarizer=None, strides=strides, dilations=dilations)
    model.load_state_dict(reference.state_dict())
    model.eval().double()
    x = torch.randn(1, 3, 64, 64, dtype=torch.float64)
    with torch.no_grad():
        for out, ref, step in zip(model(x), reference(x), (1, 1, 2, 4)):
            torch.testing.assert_close(
                out[..., ::step, ::step], ref, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize('name', BACKBONES)
@pytest.mark.parametrize('pad_value', [1.0, -1.0])
def test_binary_convs_only_see_pm1(name, pad_value, monkeypatch):
    """The activation quantizers output +-1, and the tensor each binary conv
    convolves, padding included, holds only +-1 (no zero padding)."""
    strides, dilations = OUTPUT_STRIDE[name][8]
    model = build_tiny(
        name, pad_value=pad_value, strides=strides, dilations=dilations)
    convs = binary_convs(model)
    assert len(convs) > 0
    quantized, conv_inputs, inside = [], [], []
    original_conv2d = F.conv2d

    def recording_conv2d(inp, weight, bias=None, stride=1, padding=0, *args):
        if inside:
            conv_inputs.append((inside[-1], inp, padding))
        return original_conv2d(inp, weight, bias, stride, padding, *args)

    def enter(module, args):
        inside.append(module)

    def leave(module, args, output):
        inside.pop()

    def record_quantized(module, args, output):
        quantized.append(output)

    monkeypatch.setattr(F, 'conv2d', recording_conv2d)
    for _, conv in convs:
        conv.input_quantizer.register_forward_hook(record_quantized)
        conv.register_forward_pre_hook(enter)
        conv.register_forward_hook(leave)
    model(torch.randn(2, 3, 48, 48))

    assert len(quantized) == len(convs)
    assert len(conv_inputs) == len(convs)
    for out in quantized:
        assert ((out == 1) | (out == -1)).all()
    names = {m: n for n, m in convs}
    for conv, inp, padding in conv_inputs:
        conv_name = names[conv]
        assert ((inp == 1) | (inp == -1)).all(), conv_name
        assert padding in (0, (0, 0)), conv_name
        pad = conv.padding[0]
        if pad:  # the border rows/cols are the padding
            for border in (inp[..., :pad, :], inp[..., -pad:, :],
                           inp[..., :, :pad], inp[..., :, -pad:]):
                assert (border == pad_value).all(), conv_name


@pytest.mark.parametrize('name', BACKBONES)
def test_fp_variant_has_same_architecture(name):
    binary = build_tiny(name)
    fp = build_tiny(name, binarizer=None)
    assert not any(isinstance(m, BinaryConv2d) for m in fp.modules())
    binary_names = [
        n for n, _ in binary.named_parameters()
        if not any(role in n.split('.') for role in QUANTIZER_ROLES)
    ]
    assert binary_names == [n for n, _ in fp.named_parameters()]
    fp_shapes = {n: p.shape for n, p in fp.named_parameters()}
    assert all(fp_shapes[n] == p.shape for n, p in binary.named_parameters()
               if n in fp_shapes)
    outs = fp(torch.randn(2, 3, 32, 32))
    assert outs[-1].shape[1] == TINY_CHANNELS[name][-1]


def stem_and_stage_modules(model, frozen_stages):
    return [model.conv1, model.bn1] + [
        getattr(model, f'layer{i}') for i in range(1, frozen_stages + 1)
    ]


@pytest.mark.parametrize('name', BACKBONES)
@pytest.mark.parametrize('frozen_stages', [0, 2])
def test_frozen_stages(name, frozen_stages):
    model = build_tiny(name, frozen_stages=frozen_stages)
    model.train()
    frozen = stem_and_stage_modules(model, frozen_stages)
    for module in frozen:
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules())
    nxt = getattr(model, f'layer{frozen_stages + 1}')
    assert all(p.requires_grad for p in nxt.parameters())
    assert all(m.training for m in nxt.modules())
    # frozen BN statistics do not move in training mode
    before = model.bn1.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(model.bn1.running_mean, before)


@pytest.mark.parametrize('name', BACKBONES)
def test_norm_eval(name):
    model = build_tiny(name, norm_eval=True)
    model.train()
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert norms and all(not m.training for m in norms)
    assert all(p.requires_grad for p in model.parameters())
    stats = [m.running_mean.clone() for m in norms]
    model(torch.randn(2, 3, 32, 32))
    assert all(torch.equal(m.running_mean, s) for m, s in zip(norms, stats))
    model.train(False)
    model.train()
    assert all(not m.training for m in norms)


@pytest.mark.parametrize('name', BACKBONES)
def test_backward_reaches_latent_weights(name):
    model = build_tiny(name)
    model.train()
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.square().mean() for o in outs).backward()
    for conv_name, conv in binary_convs(model):
        assert conv.weight.grad is not None, conv_name
        assert conv.weight.grad.abs().sum() > 0, conv_name
    assert model.conv1.weight.grad.abs().sum() > 0
    if name == 'ReActNet':  # RSign shifts and RPReLU parameters
        block = model.layer2[0]
        assert block.conv1.input_quantizer.bias.grad.abs().sum() > 0
        assert block.act1.shift_in.grad.abs().sum() > 0


@pytest.mark.parametrize('name', ['IRNetResNet', 'BiRealResNet', 'ReActNet'])
def test_with_cp_matches(name):
    model = build_tiny(name)
    cp_model = build_tiny(name, with_cp=True)
    cp_model.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    out, cp_out = model(x)[-1], cp_model(x)[-1]
    torch.testing.assert_close(cp_out, out)
    out.sum().backward()
    cp_out.sum().backward()
    grads = dict(model.named_parameters())
    for n, p in cp_model.named_parameters():
        if grads[n].grad is not None:
            torch.testing.assert_close(p.grad, grads[n].grad, msg=n)


@pytest.fixture
def mmseg_scope(monkeypatch):
    monkeypatch.setattr(DefaultScope, '_instance_dict', OrderedDict())
    init_default_scope('mmseg')
    assert DefaultScope.get_current_instance().scope_name == 'mmseg'


@pytest.mark.parametrize('cfg,cls', [
    (dict(type='IRNetResNet', depth=18), IRNetResNet),
    (dict(type='BiRealResNet', depth=34, binarizer=None), BiRealResNet),
    (dict(type='ReActNet', widen_factor=0.25), ReActNet),
])
def test_build_in_mmseg_scope(mmseg_scope, cfg, cls):
    model = MODELS.build(cfg)
    assert type(model) is cls
    assert MODELS.scope == 'mmseg'


@pytest.mark.parametrize('name', BACKBONES)
@pytest.mark.parametrize('kwargs,argument', [
    (dict(out_indices=(0, 4)), 'out_indices'),
    (dict(out_indices=(-1, )), 'out_indices'),
    (dict(
        num_stages=3,
        strides=(2, 2, 2),
        dilations=(1, 1, 1),
        out_indices=(3, )), 'out_indices'),
    (dict(strides=(1, 2, 2)), 'strides'),
    (dict(dilations=(1, 1, 1, 1, 1)), 'dilations'),
    (dict(dilations=(1, 1, 0, 1)), 'dilations'),
    (dict(num_stages=5), 'num_stages'),
    (dict(frozen_stages=5), 'frozen_stages'),
    (dict(binarizer='nope'), 'binarizer'),
    (dict(pad_value=0.5), 'pad_value'),
])
def test_bad_arguments(name, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        build_tiny(name, **kwargs)


@pytest.mark.parametrize('name', BACKBONES)
def test_fewer_stages(name):
    model = build_tiny(
        name,
        num_stages=2,
        out_indices=(1, ),
        strides=OUTPUT_STRIDE[name][8][0][:2],
        dilations=(1, 1))
    assert not hasattr(model, 'layer3')
    (out, ) = model(torch.randn(1, 3, 32, 32))
    assert out.shape == (1, TINY_CHANNELS[name][1], 4, 4)
    assert isinstance(model.layer2, nn.Sequential)
