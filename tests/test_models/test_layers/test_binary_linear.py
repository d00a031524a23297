"""Tests of :class:`cmim_dense.models.layers.BinaryLinear` (channel last)."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cmim_dense
from cmim_dense.models.layers import BinaryLinear
from cmim_dense.models.quantizers import ROLES

BINARIZERS = cmim_dense.available_binarizers()
MISSING_FROM_FP = {
    'fda': {
        f'{role}.noise.{fc}.weight'
        for role in ('input_quantizer', 'weight_quantizer')
        for fc in ('fc1', 'fc2')
    },
    'xnorpp': {'output_scale.scale'},
    'rbnn': {
        'weight_quantizer.theta', 'weight_quantizer.rotation_left',
        'weight_quantizer.rotation_right', 'output_scale.scale'
    },
    'reactnet': {'input_quantizer.bias'},
    'recu': {'output_scale.scale'},
}
IN, OUT = 6, 5


def pm1(x):
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def randomise(layer):
    with torch.no_grad():
        layer.bias.normal_()
        if hasattr(layer.input_quantizer, 'bias'):
            layer.input_quantizer.bias.normal_(0, 0.3)
        if layer.output_scale is not None and hasattr(layer.output_scale,
                                                      'scale'):
            layer(torch.zeros(1, IN))  # lazy initialisations
            layer.output_scale.scale.uniform_(0.5, 1.5)
        if hasattr(layer.weight_quantizer, 'theta'):
            layer.weight_quantizer.theta.uniform_(-3, 3)


def reference_output(layer, x):
    """``s(x) * linear(Q_a(x), Q_w) + b`` composed from the roles evaluated
    on their own (their values per method: test_released_code.py)."""
    with torch.no_grad():
        qw = layer.weight_quantizer(layer.weight)
        out = F.linear(layer.input_quantizer(x), qw)
        if layer.output_scale is not None:
            out = layer.output_scale(out, x)
        return out + layer.bias


@pytest.mark.parametrize('shape', [(3, IN), (2, 4, IN)], ids=['2d', '3d'])
@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_forward_equals_reference(binarizer, shape):
    layer = BinaryLinear(IN, OUT, binarizer=binarizer)
    assert layer.is_binary
    qw = layer.weight_quantizer.eval()(layer.weight)
    layer.train()
    mags = qw.detach().abs()
    torch.testing.assert_close(mags, mags[:, :1].expand_as(mags))
    randomise(layer)
    x = torch.randn(shape)
    x.view(-1)[3] = 0.0
    out = layer(x)
    assert out.shape == shape[:-1] + (OUT, )
    torch.testing.assert_close(out, reference_output(layer, x))


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_hook_and_backward(binarizer):
    layer = BinaryLinear(IN, OUT, binarizer=binarizer)
    randomise(layer)
    seen = []
    layer.input_quantizer.register_forward_hook(lambda m, i, o: seen.append(
        (i[0], o)))
    x = torch.randn(2, 4, IN, requires_grad=True)
    layer.eval()(x)
    latent, binary = seen[0]
    assert latent is x
    assert set(binary.unique().tolist()) <= set(layer.input_levels)
    layer.train()(x).pow(2).sum().backward()
    assert layer.weight.grad is not None
    assert layer.weight.grad.abs().sum() > 0
    assert x.grad.abs().sum() > 0


def test_rsign_uses_last_dim():
    layer = BinaryLinear(IN, OUT, binarizer='reactnet')
    assert layer.input_quantizer.channel_dim == -1
    assert layer.input_quantizer.bias.shape == (IN, )
    with torch.no_grad():
        layer.input_quantizer.bias.copy_(torch.linspace(-1, 1, IN))
    x = torch.zeros(2, 3, IN)
    q = layer.input_quantizer(x)
    # sign(0 - b_c): +1 where b_c <= 0, -1 where b_c > 0, same for every row
    expected = pm1(-torch.linspace(-1, 1, IN)).expand(2, 3, IN)
    assert torch.equal(q, expected)
    with pytest.raises(ValueError, match='RSign'):
        layer(torch.randn(2, IN + 1, 3))


def test_no_binarizer_is_nn_linear():
    fp = nn.Linear(IN, OUT)
    layer = BinaryLinear(IN, OUT)
    assert not layer.is_quantized
    assert list(layer.state_dict()) == list(fp.state_dict())
    layer.load_state_dict(fp.state_dict(), strict=True)
    x = torch.randn(2, 3, IN)
    assert torch.equal(layer(x), fp(x))


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_fp_state_dict_loads(binarizer):
    fp = nn.Linear(IN, OUT)
    layer = BinaryLinear(IN, OUT, binarizer=binarizer)
    extra = set(layer.state_dict()) - set(fp.state_dict())
    assert all(k.split('.')[0] in ROLES for k in extra)
    result = layer.load_state_dict(fp.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == MISSING_FROM_FP.get(binarizer, set())
    assert torch.equal(layer.weight, fp.weight)


def test_from_float_shares_tensors():
    fp = nn.Linear(IN, OUT, bias=False)
    layer = BinaryLinear.from_float(
        fp, binarizer=dict(type='xnor', mode='sample'))
    assert layer.weight is fp.weight and layer.bias is None
    x = torch.randn(3, IN)
    qw = layer.weight_quantizer(layer.weight).detach()
    expected = F.linear(pm1(x), qw) * x.abs().mean(1, keepdim=True)
    torch.testing.assert_close(layer(x), expected)
    assert torch.equal(BinaryLinear.from_float(fp)(x), fp(x))


def test_rbnn_factorises_in_features():
    layer = BinaryLinear(12, 4, binarizer='rbnn')
    assert layer.weight_quantizer.factors == (3, 4)
    with pytest.raises(ValueError, match='fan-in 12'):
        BinaryLinear(
            12,
            4,
            binarizer='rbnn',
            weight_quantizer=dict(type='RBNNWeight', factors=(5, 7)))


def test_xnor_spatial_refused():
    with pytest.raises(ValueError, match='spatial'):
        BinaryLinear(IN, OUT, binarizer=dict(type='xnor', mode='spatial'))


def test_gamma_spatial_refused():
    with pytest.raises(ValueError, match='GammaScale'):
        BinaryLinear(
            IN, OUT, binarizer=dict(type='xnorpp', spatial_size=(2, 2)))


def test_disagreeing_role_config():
    with pytest.raises(ValueError) as err:
        BinaryLinear(
            IN,
            OUT,
            binarizer='reactnet',
            input_quantizer=dict(type='RSign', in_channels=IN + 1))
    assert 'BinaryLinear' in str(err.value)
    assert 'in_channels' in str(err.value)


def test_nan_propagates():
    layer = BinaryLinear(IN, OUT, binarizer='dorefa')
    x = torch.randn(2, IN)
    x[0, 2] = float('nan')
    out = layer(x)
    assert torch.isnan(out[0]).all()
    assert torch.isfinite(out[1]).all()
