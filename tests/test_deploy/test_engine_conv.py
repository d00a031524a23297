"""EngineConv2d against the fake-quantized BinaryConv2d (+ BN, act)."""
import pytest
import torch
from torch import nn

from cmim_dense.deploy import EngineConv2d, UnsupportedLayerError
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.layers.rprelu import RPReLU
from cmim_dense.models.quantizers.activation_quantizers import SignQuantizer
from cmim_dense.registry import QUANTIZERS

BINARIZERS = [
    'bnn', 'xnor', 'bireal', 'irnet', 'rbnn',
    dict(type='rbnn', form='paper'), 'reactnet', 'recu', 'fda',
    dict(type='xnor', mode='spatial'),
    dict(type='xnorpp', spatial_size=(5, 6)), 'xnorpp'
]


@pytest.mark.parametrize('binarizer', BINARIZERS, ids=str)
def test_layer_bn_residual_act_match_fake_quantized(binarizer, randomize):
    conv = BinaryConv2d(
        70,
        20,
        3,
        stride=2,
        padding=2,
        dilation=2,
        bias=True,
        binarizer=binarizer)
    bn, act = nn.BatchNorm2d(20), nn.Hardtanh()
    randomize(nn.Sequential(conv, bn, act))
    x = torch.randn(2, 70, 9, 11)
    res = torch.randn(2, 20, 5, 6)
    with torch.no_grad():
        ref = act(bn(conv(x)) + res)
        layer = EngineConv2d.from_binary_conv(conv, 'layer')
        layer.fuse_bn(bn)
        layer.fuse_act(act)
        got = layer(x, res)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    # per-channel output scales and BN fold into the output step
    fused = not isinstance(binarizer, dict) or binarizer.get('type') not in \
        ('xnor', 'xnorpp')
    assert (layer.bn is None) == fused and (layer.act_spec is not None) == \
        fused


@pytest.mark.parametrize('pad_value', [1.0, -1.0, 0.0])
@pytest.mark.parametrize('groups', [1, 3])
def test_padding_values_and_groups(pad_value, groups, randomize):
    conv = BinaryConv2d(
        69,
        9,
        3,
        padding=1,
        groups=groups,
        bias=False,
        binarizer='reactnet',
        pad_value=pad_value)
    randomize(conv)
    x = torch.randn(1, 69, 6, 7)
    with torch.no_grad():
        got = EngineConv2d.from_binary_conv(conv)(x)
        torch.testing.assert_close(got, conv(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    'act', [
        nn.ReLU(),
        nn.PReLU(20),
        nn.PReLU(),
        RPReLU(20),
        nn.Identity(),
        nn.Sigmoid()
    ],
    ids=lambda a: type(a).__name__)
def test_activations(act, randomize):
    conv = BinaryConv2d(20, 20, 1, bias=False, binarizer='irnet')
    randomize(nn.Sequential(conv, act))
    x = torch.randn(1, 20, 4, 4)
    with torch.no_grad():
        layer = EngineConv2d.from_binary_conv(conv)
        layer.fuse_act(act)
        torch.testing.assert_close(
            layer(x, x), act(conv(x) + x), rtol=1e-5, atol=1e-5)
    # a single-slope PReLU needs the channel count: then it runs in PyTorch
    single = isinstance(act, nn.PReLU) and act.weight.numel() == 1
    assert (layer.act is not None) == (isinstance(act, nn.Sigmoid) or single)


def test_frozen_weight_layer(randomize):
    conv = randomize(BinaryConv2d(16, 8, 3, padding=1, binarizer='bireal'))
    x = torch.randn(1, 16, 5, 5)
    with torch.no_grad():
        ref = conv(x)
        conv.freeze_weight()
        torch.testing.assert_close(
            EngineConv2d.from_binary_conv(conv)(x), ref, rtol=1e-5, atol=1e-5)


class ZeroOneSign(SignQuantizer):
    """A {0, 1} activation (not sign-based) for the refusal test."""

    def forward(self, x):
        return (x >= 0).to(x.dtype)


def test_refuses_non_sign_activations():
    if 'ZeroOneSignForTest' not in QUANTIZERS.module_dict:
        QUANTIZERS.register_module('ZeroOneSignForTest', module=ZeroOneSign)
    conv = BinaryConv2d(
        8,
        8,
        3,
        binarizer='dorefa',
        input_quantizer=dict(type='ZeroOneSignForTest'))
    with pytest.raises(UnsupportedLayerError, match='layer.*ZeroOneSign'):
        EngineConv2d.from_binary_conv(conv, 'layer')
    fp_act = BinaryConv2d(8, 8, 3, binarizer='irnet', input_quantizer=False)
    with pytest.raises(UnsupportedLayerError, match='not binarized'):
        EngineConv2d.from_binary_conv(fp_act, 'fp_act')
    fp_w = BinaryConv2d(8, 8, 3, binarizer='irnet', weight_quantizer=False)
    with pytest.raises(UnsupportedLayerError, match='weights are not'):
        EngineConv2d.from_binary_conv(fp_w, 'fp_w')
