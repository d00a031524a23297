"""Tests of :class:`cmim_dense.models.layers.BinaryConv2d`.

Every expected output is computed here, independently of the layer's code
path: binary activations are ``where(x >= 0, 1, -1)``, the binary input is
padded explicitly, and the convolution is ``F.conv2d``.
"""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cmim_dense
from cmim_dense.engine.hooks import BinarizerScheduleHook
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.quantizers import ROLES, WeightStateDependent

BINARIZERS = cmim_dense.available_binarizers()
FDA_NOISE = {
    f'{role}.noise.{fc}.weight'
    for role in ('input_quantizer', 'weight_quantizer')
    for fc in ('fc1', 'fc2')
}
# Quantizer entries an FP (nn.Conv2d) state dict lacks, per binarizer.
# Schedule buffers (IR-Net/RBNN t, k; ReCU tau; FDA n, alpha) are never
# reported.
MISSING_FROM_FP = {
    'fda': FDA_NOISE,
    'xnorpp': {'output_scale.scale'},
    'rbnn': {
        'weight_quantizer.theta', 'weight_quantizer.rotation_left',
        'weight_quantizer.rotation_right', 'output_scale.scale'
    },
    'reactnet': {'input_quantizer.bias'},
    'recu': {'output_scale.scale'},
}


def pm1(x):
    """Reference binary activation: +1 where x >= 0, else -1."""
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


def pair(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def explicit_pads(kernel_size, padding, dilation=1):
    """Padding in ``F.pad`` order (w_before, w_after, h_before, h_after)."""
    k, d = pair(kernel_size), pair(dilation)
    per_dim = []
    for i in range(2):
        if padding == 'same':
            total = d[i] * (k[i] - 1)
            per_dim.append((total // 2, total - total // 2))
        else:
            p = pair(padding)[i]
            per_dim.append((p, p))
    (hb, ha), (wb, wa) = per_dim
    return (wb, wa, hb, ha)


def check_pm_alpha(q):
    """Each output channel of ``q`` is ``{-alpha_c, +alpha_c}``, alpha_c > 0.
    Returns alpha."""
    mags = q.detach().abs().flatten(1)
    alpha = mags[:, 0]
    assert (alpha > 0).all()
    torch.testing.assert_close(mags, alpha[:, None].expand_as(mags))
    return alpha


def randomise_quantizer_params(layer):
    """Move learnable quantizer parameters away from their init values."""
    with torch.no_grad():
        if hasattr(layer.input_quantizer, 'bias'):
            layer.input_quantizer.bias.normal_(0, 0.3)
        scale = layer.output_scale
        if scale is not None and hasattr(scale, 'scale'):
            layer(torch.zeros(1, layer.in_channels, 3, 3))  # lazy inits
            scale.scale.uniform_(0.5, 1.5)
        if hasattr(layer.weight_quantizer, 'theta'):
            layer.weight_quantizer.theta.uniform_(-3, 3)


def binary_pad_value(layer):
    """+1 (default) for a {-1, +1} input, 0 for any other levels."""
    levels = tuple(layer.input_quantizer.levels)
    return layer.pad_value if levels == (-1.0, 1.0) else 0.0


def reference_output(layer, x, pad_value=None):
    """``s(x) * conv(pad(Q_a(x), pad_value), Q_w) + b`` for a stride-1
    layer with integer padding, composed here from the roles evaluated on
    their own (their values per method: test_released_code.py)."""
    pad_value = binary_pad_value(layer) if pad_value is None else pad_value
    with torch.no_grad():
        a = layer.input_quantizer(x)
        pads = explicit_pads(layer.kernel_size, layer.padding, layer.dilation)
        qw = layer.weight_quantizer(layer.weight)
        out = F.conv2d(
            F.pad(a, pads, value=pad_value), qw, None, layer.stride, 0,
            layer.dilation, layer.groups)
        if layer.output_scale is not None:
            out = layer.output_scale(out, x)
        if layer.bias is not None:
            out = out + layer.bias.view(1, -1, 1, 1)
    return out


def make_input(shape=(2, 4, 7, 8)):
    x = torch.randn(shape)
    # negative border, exact zeros: padding and sign(0) = +1 both matter
    x[:, :, 0, :] = -x[:, :, 0, :].abs() - 0.1
    x[:, :, :, -1] = -x[:, :, :, -1].abs() - 0.1
    x[0, 0, 3, 3] = 0.0
    x[1, 2, 2, 5] = 0.0
    return x


@pytest.mark.parametrize('train', [True, False], ids=['train', 'eval'])
@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_forward_equals_composed_reference(binarizer, train):
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer)
    layer.train(train)
    assert layer.is_binary and layer.is_quantized
    assert layer.pad_value == 1.0
    with torch.no_grad():
        layer.bias.normal_()
    # weights (evaluated): +-alpha per output channel
    check_pm_alpha(layer.weight_quantizer.eval()(layer.weight))
    layer.train(train)
    randomise_quantizer_params(layer)
    x = make_input()
    out = layer(x)
    assert out.shape == (2, 6, 7, 8)
    torch.testing.assert_close(out, reference_output(layer, x))
    if binary_pad_value(layer) != 0:
        # padding with +1 is not zero padding: the negative border differs
        assert not torch.allclose(out, reference_output(layer, x, 0.0))


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_input_quantizer_hook_sees_latent_and_binary(binarizer):
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer).eval()
    randomise_quantizer_params(layer)
    seen = []
    handle = layer.input_quantizer.register_forward_hook(
        lambda mod, inputs, output: seen.append((inputs, output)))
    x = make_input()
    layer(x)
    handle.remove()
    assert len(seen) == 1
    inputs, output = seen[0]
    assert inputs[0] is x
    assert output.shape == x.shape
    assert set(output.unique().tolist()) <= set(layer.input_levels)
    assert layer.input_levels == tuple(layer.input_quantizer.levels)


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_backward_reaches_every_parameter(binarizer):
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer)
    randomise_quantizer_params(layer)
    x = make_input().requires_grad_()
    layer(x).pow(2).sum().backward()
    for name, param in layer.named_parameters():
        assert param.grad is not None, name
        assert torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert x.grad.abs().sum() > 0


def test_rbnn_init_gives_the_latent_weight_no_gradient():
    """RBNN's released init, theta = pi / 2, and detached rotation: the
    latent weight's share 1 - |sin theta| is 0 until theta moves."""
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer='rbnn')
    quantizer = layer.weight_quantizer
    layer(make_input()).pow(2).sum().backward()
    assert torch.equal(layer.weight.grad, torch.zeros_like(layer.weight))
    assert quantizer.theta.grad is not None
    layer.zero_grad()
    with torch.no_grad():
        quantizer.theta.fill_(1.0)
    layer(make_input()).pow(2).sum().backward()
    assert layer.weight.grad.abs().sum() > 0
    # scale initialised from the weight, on the first forward pass
    torch.testing.assert_close(layer.output_scale.scale.detach(),
                               layer.weight.detach().abs().mean((1, 2, 3)))


def test_rbnn_scale_init_follows_the_final_weight():
    """from_float swaps the weight in after construction: the scale is
    taken from the weight the layer finally has, and a saved state dict
    never holds the placeholder."""
    conv = nn.Conv2d(4, 6, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(7.0)
    layer = BinaryConv2d.from_float(conv, binarizer='rbnn')
    expected = conv.weight.detach().abs().mean((1, 2, 3))
    state = layer.state_dict()
    torch.testing.assert_close(state['output_scale.scale'], expected)
    other = BinaryConv2d(4, 6, 3, padding=1, binarizer='rbnn')
    other.load_state_dict(state)
    torch.testing.assert_close(other.output_scale.scale.detach(), expected)
    x = make_input()
    torch.testing.assert_close(other(x), layer(x))


def test_rbnn_update_rotation():
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer='rbnn')
    quantizer = layer.weight_quantizer
    before = quantizer.rotation_error(layer.weight)
    start = quantizer.rotation_left.clone()
    assert isinstance(quantizer, WeightStateDependent)
    quantizer.update_state(layer.weight)
    eye = torch.eye(6)
    assert not torch.allclose(quantizer.rotation_left, start)
    # rotations stay orthogonal and do not increase the rotation error
    r1, r2 = quantizer.rotation_left, quantizer.rotation_right
    torch.testing.assert_close(r1.t() @ r1, eye, atol=1e-5, rtol=0)
    torch.testing.assert_close(r2.t() @ r2, eye, atol=1e-5, rtol=0)
    assert quantizer.rotation_error(layer.weight) <= before + 1e-4
    check_pm_alpha(quantizer(layer.weight))


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_nan_input_propagates(binarizer):
    """Documented: NaN is propagated, never turned into a valid value."""
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer).eval()
    x = make_input()
    x[0, 1, 3, 4] = float('nan')
    q = layer.input_quantizer(x)
    assert torch.isnan(q[0, 1, 3, 4])
    out = layer(x)
    # every output whose receptive field holds the NaN is NaN
    assert torch.isnan(out[0, :, 2:5, 3:6]).all()
    # the other sample is unaffected (scales/normalisation are per sample)
    assert torch.isfinite(out[1]).all()


GEOMETRIES = {
    'stride2': dict(kernel_size=3, stride=2, padding=1),
    'dilation2': dict(kernel_size=3, dilation=2, padding=2),
    'groups2': dict(kernel_size=3, padding=1, groups=2),
    'depthwise': dict(kernel_size=3, padding=1, groups=4, out_channels=4),
    'same': dict(kernel_size=3, padding='same'),
    'same_even_dilated': dict(kernel_size=4, padding='same', dilation=2),
    'rect': dict(kernel_size=(3, 5), stride=(2, 1), padding=(1, 2)),
    'nopad_stride2_nobias': dict(kernel_size=3, stride=2, bias=False),
    'reflect': dict(kernel_size=3, padding=1, padding_mode='reflect'),
    'replicate': dict(kernel_size=3, padding=1, padding_mode='replicate'),
    'circular': dict(kernel_size=3, padding=1, padding_mode='circular'),
}


def geometry_kwargs(name):
    kwargs = dict(in_channels=4, out_channels=6)
    kwargs.update(GEOMETRIES[name])
    return kwargs


@pytest.mark.parametrize('name', list(GEOMETRIES))
def test_geometry_without_binarizer_is_nn_conv2d(name):
    kwargs = geometry_kwargs(name)
    fp = nn.Conv2d(**kwargs)
    layer = BinaryConv2d(**kwargs)
    assert not layer.is_quantized and not layer.is_binary
    assert all(getattr(layer, role) is None for role in ROLES)
    layer.load_state_dict(fp.state_dict(), strict=True)
    x = torch.randn(2, 4, 9, 11)
    assert torch.equal(layer(x), fp(x))


@pytest.mark.parametrize('pad_value', [0.0, 1.0, -1.0])
@pytest.mark.parametrize('name', list(GEOMETRIES))
def test_geometry_with_binarizer(name, pad_value):
    kwargs = geometry_kwargs(name)
    layer = BinaryConv2d(**kwargs, binarizer='bnn', pad_value=pad_value)
    x = torch.randn(2, 4, 9, 11)
    out = layer(x)
    qw = layer.weight_quantizer(layer.weight).detach()
    bias = None if layer.bias is None else layer.bias.detach()
    a = pm1(x)
    stride, dilation = kwargs.get('stride', 1), kwargs.get('dilation', 1)
    groups, padding = kwargs.get('groups', 1), kwargs.get('padding', 0)
    mode = kwargs.get('padding_mode', 'zeros')
    pads = explicit_pads(kwargs['kernel_size'], padding, dilation)
    if mode != 'zeros':
        # the padding mode pads the binary input itself: pad_value unused
        expected = F.conv2d(
            F.pad(a, pads, mode=mode), qw, bias, stride, 0, dilation, groups)
    elif pad_value == 0:
        expected = F.conv2d(a, qw, bias, stride, padding, dilation, groups)
    else:
        expected = F.conv2d(
            F.pad(a, pads, value=pad_value), qw, bias, stride, 0, dilation,
            groups)
    assert out.shape == expected.shape
    torch.testing.assert_close(out, expected)

    # shapes implied by the geometry
    if name == 'groups2':
        assert layer.weight.shape == (6, 2, 3, 3)
    if name == 'depthwise':
        assert layer.weight.shape == (4, 1, 3, 3)
    if name in ('dilation2', 'same', 'same_even_dilated', 'reflect', 'groups2',
                'depthwise'):
        assert out.shape[-2:] == x.shape[-2:]
    if name == 'stride2':
        assert out.shape[-2:] == (5, 6)


@pytest.mark.parametrize('pad_value', [0.0, 1.0, -1.0])
def test_zero_one_activation_is_padded_with_zero(pad_value):
    """DoReFa's {0, 1} input: padded with 0 (what a zero-padded latent input
    gives), whatever pad_value says; the conv only sees {0, 1}."""
    layer = BinaryConv2d(
        4, 6, 3, padding=1, binarizer='dorefa', pad_value=pad_value)
    assert layer.input_levels == (0.0, 1.0)
    assert layer.effective_pad_value == 0.0
    x = 2 * torch.randn(2, 4, 6, 6)
    a = (x.clamp(0, 1) > 0.5).float()
    qw = layer.weight_quantizer(layer.weight).detach()
    expected = F.conv2d(F.pad(a, (1, 1, 1, 1), value=0.0), qw, layer.bias)
    torch.testing.assert_close(layer(x), expected)
    assert 'pad_value=0.0' in repr(layer)


def test_pad_values_give_different_outputs():
    x = torch.randn(1, 4, 6, 6)
    outs = []
    for pad_value in (1.0, 0.0, -1.0):
        layer = BinaryConv2d(
            4, 6, 3, padding=1, binarizer='bnn', pad_value=pad_value)
        torch.manual_seed(1)
        nn.init.normal_(layer.weight)
        nn.init.zeros_(layer.bias)
        outs.append(layer(x))
    # interior identical, border differs
    for out in outs[1:]:
        assert torch.equal(out[..., 1:-1, 1:-1], outs[0][..., 1:-1, 1:-1])
        assert not torch.equal(out, outs[0])
    # +1 and -1 padding are symmetric around zero padding
    torch.testing.assert_close(outs[1], (outs[0] + outs[2]) / 2)


def test_pad_value_ignored_without_input_quantizer():
    """A latent (FP) input is zero padded, whatever pad_value says."""
    layer = BinaryConv2d(
        4, 6, 3, padding=1, binarizer='dorefa', input_quantizer=False)
    assert layer.input_quantizer is None and not layer.is_binary
    assert layer.is_quantized
    x = torch.randn(2, 4, 5, 5)
    qw = layer.weight_quantizer(layer.weight)
    torch.testing.assert_close(
        layer(x), F.conv2d(x, qw, layer.bias, padding=1))


def test_weight_quantizer_false_keeps_fp_weights():
    layer = BinaryConv2d(
        4, 6, 3, padding=1, binarizer='bnn', weight_quantizer=False)
    assert layer.weight_quantizer is None
    assert layer.quantized_weight() is layer.weight
    x = torch.randn(2, 4, 5, 5)
    expected = F.conv2d(
        F.pad(pm1(x), (1, 1, 1, 1), value=1.0), layer.weight, layer.bias)
    torch.testing.assert_close(layer(x), expected)


def test_all_roles_dropped_is_fp():
    layer = BinaryConv2d(
        4,
        6,
        3,
        padding=1,
        binarizer='xnor',
        input_quantizer=False,
        weight_quantizer=False,
        output_scale=False)
    assert not layer.is_quantized
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(
        layer(x), F.conv2d(x, layer.weight, layer.bias, padding=1))


def test_role_config_replaces_binarizer_role():
    layer = BinaryConv2d(
        4,
        6,
        3,
        binarizer='irnet',
        weight_quantizer=dict(type='ScaledSignWeight'))
    assert type(layer.input_quantizer).__name__ == 'EDESign'
    assert type(layer.weight_quantizer).__name__ == 'ScaledSignWeight'
    # explicit roles without a binarizer
    layer = BinaryConv2d(
        4,
        6,
        3,
        input_quantizer=dict(type='SteSign'),
        weight_quantizer=dict(type='SteSignWeight'))
    assert layer.is_binary and layer.binarizer is None
    assert 'binarizer=custom' in repr(layer)


def test_binarizer_dict_passes_hyper_parameters():
    layer = BinaryConv2d(4, 6, 3, binarizer=dict(type='irnet', t_min=1e-3))
    assert layer.binarizer == 'irnet'
    torch.testing.assert_close(layer.input_quantizer.grad.t,
                               torch.tensor(1e-3))
    torch.testing.assert_close(layer.weight_quantizer.grad.t,
                               torch.tensor(1e-3))
    text = repr(layer)
    assert 'binarizer=irnet' in text and 'pad_value=1.0' in text


def test_xnor_spatial_scale_is_the_papers_k_map():
    layer = BinaryConv2d(
        4,
        6,
        3,
        stride=2,
        padding=1,
        binarizer=dict(type='xnor', mode='spatial'))
    x = torch.randn(2, 4, 9, 8)
    out = layer(x)
    k_map = F.avg_pool2d(
        x.abs().mean(1, keepdim=True), 3, 2, 1, count_include_pad=True)
    qw = layer.weight_quantizer(layer.weight).detach()
    expected = F.conv2d(
        F.pad(pm1(x), (1, 1, 1, 1), value=1.0), qw,
        stride=2) * k_map + layer.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(out, expected)


def test_gamma_scale_spatial_factors():
    layer = BinaryConv2d(
        4, 6, 3, padding=1, binarizer=dict(type='xnorpp', spatial_size=(5, 7)))
    gamma = layer.output_scale
    for p in (gamma.scale, gamma.rows, gamma.cols):
        assert torch.equal(p, torch.ones_like(p))
    with torch.no_grad():
        gamma.scale.uniform_(0.5, 1.5)
        gamma.rows.uniform_(0.5, 1.5)
        gamma.cols.uniform_(0.5, 1.5)
    x = torch.randn(2, 4, 5, 7)
    qw = layer.weight_quantizer(layer.weight).detach()
    expected = F.conv2d(F.pad(pm1(x), (1, 1, 1, 1), value=1.0), qw)
    expected = expected * gamma.scale.detach().view(1, -1, 1, 1) * \
        gamma.rows.detach().view(1, 1, -1, 1) * \
        gamma.cols.detach().view(1, 1, 1, -1) + layer.bias.view(1, -1, 1, 1)
    torch.testing.assert_close(layer(x), expected)
    # whole-image inference at another size: the factors follow it
    big = layer(torch.randn(2, 4, 10, 14))
    assert big.shape == (2, 6, 10, 14) and torch.isfinite(big).all()


# ----------------------------------------------------------- state dicts


def test_fp_layer_state_dict_keys_identical():
    fp = nn.Conv2d(4, 6, 3, padding=1)
    layer = BinaryConv2d(4, 6, 3, padding=1)
    assert list(layer.state_dict()) == list(fp.state_dict())
    fp_nobias = nn.Conv2d(4, 6, 3, bias=False)
    layer_nobias = BinaryConv2d(4, 6, 3, bias=False)
    assert list(layer_nobias.state_dict()) == list(fp_nobias.state_dict())


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_fp_state_dict_loads(binarizer):
    fp = nn.Conv2d(4, 6, 3, padding=1)
    layer = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer)
    extra = set(layer.state_dict()) - set(fp.state_dict())
    assert set(fp.state_dict()) <= set(layer.state_dict())
    assert all(k.split('.')[0] in ROLES for k in extra)

    result = layer.load_state_dict(fp.state_dict(), strict=False)
    assert result.unexpected_keys == []
    assert set(result.missing_keys) == MISSING_FROM_FP.get(binarizer, set())
    assert torch.equal(layer.weight, fp.weight)
    assert torch.equal(layer.bias, fp.bias)
    if binarizer not in MISSING_FROM_FP:
        layer.load_state_dict(fp.state_dict(), strict=True)
    else:
        with pytest.raises(RuntimeError, match='Missing key'):
            layer.load_state_dict(fp.state_dict(), strict=True)

    # the other way: a binary checkpoint into the FP conv
    result = fp.load_state_dict(layer.state_dict(), strict=False)
    assert result.missing_keys == []
    assert set(result.unexpected_keys) == extra


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_binary_state_dict_round_trip(binarizer):
    src = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer)
    randomise_quantizer_params(src)
    for module in src.modules():
        if hasattr(module, 'set_progress'):
            module.set_progress(0.5)
    dst = BinaryConv2d(4, 6, 3, padding=1, binarizer=binarizer)
    dst.load_state_dict(src.state_dict(), strict=True)
    for key, value in src.state_dict().items():
        assert torch.equal(dst.state_dict()[key], value), key
    x = torch.randn(2, 4, 5, 5)
    assert torch.equal(dst(x), src(x))


@pytest.mark.parametrize('bias', [True, False])
def test_from_float_shares_tensors(bias):
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=2, dilation=2, bias=bias)
    conv.eval()
    layer = BinaryConv2d.from_float(conv, binarizer='irnet', pad_value=0)
    assert layer.weight is conv.weight
    assert layer.bias is conv.bias
    assert not layer.training
    assert layer.pad_value == 0.0
    assert (layer.stride, layer.padding, layer.dilation) == \
        (conv.stride, conv.padding, conv.dilation)
    with torch.no_grad():
        conv.weight.mul_(2.0)
    assert torch.equal(layer.weight, conv.weight)
    fp_twin = BinaryConv2d.from_float(conv)
    x = torch.randn(1, 4, 9, 9)
    assert torch.equal(fp_twin(x), conv(x))


# ---------------------------------------------------------------- errors


def test_unknown_binarizer_lists_names():
    with pytest.raises(ValueError) as err:
        BinaryConv2d(4, 6, 3, binarizer='nope')
    assert "'nope'" in str(err.value)
    for name in BINARIZERS:
        assert name in str(err.value)
    with pytest.raises(ValueError, match='nope'):
        BinaryConv2d(4, 6, 3, binarizer=dict(type='nope'))


def test_unknown_role_type_is_named():
    with pytest.raises(KeyError) as err:
        BinaryConv2d(4, 6, 3, input_quantizer=dict(type='NoSuchQuantizer'))
    message = str(err.value)
    assert 'NoSuchQuantizer' in message and 'input_quantizer' in message
    assert 'SteSign' in message  # lists the available ones


@pytest.mark.parametrize('role, cfg', [
    ('input_quantizer', dict(type='ChannelScale')),
    ('input_quantizer', dict(type='ClipSTE')),
    ('output_scale', dict(type='SteSign')),
    ('weight_quantizer', dict(type='XNORScale')),
])
def test_role_of_the_wrong_kind_is_refused(role, cfg):
    with pytest.raises(TypeError, match=f'cannot be used as {role}'):
        BinaryConv2d(4, 6, 3, binarizer='bnn', **{role: cfg})


@pytest.mark.parametrize('value', ['SteSign', True, 1])
def test_role_that_is_not_a_dict_is_refused(value):
    with pytest.raises(TypeError, match='input_quantizer'):
        BinaryConv2d(4, 6, 3, input_quantizer=value)


@pytest.mark.parametrize('role, cfg, arg', [
    ('input_quantizer', dict(type='RSign', in_channels=5), 'in_channels'),
    ('output_scale', dict(type='ChannelScale',
                          out_channels=3), 'out_channels'),
    ('weight_quantizer', dict(type='RBNNWeight',
                              weight_shape=(6, 4, 1, 1)), 'weight_shape'),
])
def test_role_config_disagreeing_with_layer(role, cfg, arg):
    with pytest.raises(ValueError) as err:
        BinaryConv2d(4, 6, 3, binarizer='bnn', **{role: cfg})
    message = str(err.value)
    assert 'BinaryConv2d(4, 6' in message
    assert arg in message


def test_role_config_agreeing_with_layer_is_accepted():
    layer = BinaryConv2d(
        4,
        6,
        3,
        binarizer='reactnet',
        input_quantizer=dict(type='RSign', in_channels=4),
        output_scale=dict(type='ChannelScale', out_channels=6))
    assert layer.input_quantizer.bias.shape == (4, )
    assert layer.output_scale.scale.shape == (6, )


def test_rbnn_factors_must_match_fan_in():
    with pytest.raises(ValueError, match='36'):
        BinaryConv2d(
            4,
            8,
            3,
            binarizer='rbnn',
            weight_quantizer=dict(type='RBNNWeight', factors=(5, 7)))
    layer = BinaryConv2d(
        4,
        8,
        3,
        binarizer='rbnn',
        weight_quantizer=dict(type='RBNNWeight', factors=(4, 9)))
    assert layer.weight_quantizer.rotation_left.shape == (4, 4)
    assert layer.weight_quantizer.rotation_right.shape == (9, 9)
    default = BinaryConv2d(4, 8, 3, binarizer='rbnn')
    assert default.weight_quantizer.factors == (6, 6)
    assert math.prod(default.weight_quantizer.factors) == 36


@pytest.mark.parametrize('pad_value', [0.5, 2, -0.1])
def test_bad_pad_value(pad_value):
    with pytest.raises(ValueError, match='pad_value'):
        BinaryConv2d(4, 6, 3, binarizer='bnn', pad_value=pad_value)


def test_wrong_channel_count_for_rsign():
    layer = BinaryConv2d(4, 6, 3, binarizer='reactnet')
    with pytest.raises(ValueError, match='RSign expects 4 channels'):
        layer(torch.randn(1, 5, 6, 6))


# ------------------------------------------------------- dtypes and hooks


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_float64_layer(binarizer):
    layer = BinaryConv2d(
        4, 6, 3, padding=1, binarizer=binarizer, dtype=torch.float64)
    x = make_input().double()
    out = layer(x)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out, reference_output(layer, x))


@pytest.mark.parametrize('binarizer', ['xnorpp', 'rbnn', 'recu'])
def test_bfloat16_layer_keeps_its_dtype(binarizer):
    layer = BinaryConv2d(
        4, 6, 3, padding=1, binarizer=binarizer, dtype=torch.bfloat16)
    out = layer(torch.randn(1, 4, 5, 5, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16


@pytest.mark.parametrize('binarizer', BINARIZERS)
def test_latent_clip_and_rotation_hooks(binarizer):
    """The schedule hook's constraint and state update reach exactly the
    layers whose weight quantizer asks for them."""
    layer = BinaryConv2d(4, 6, 3, binarizer=binarizer)
    with torch.no_grad():
        layer.weight.mul_(10)
    bound = getattr(layer.weight_quantizer, 'latent_clip', None)
    assert BinarizerScheduleHook.constrain_weights(layer) == (bound
                                                              is not None)
    if bound is not None:
        assert layer.weight.abs().max() <= bound
    else:
        assert layer.weight.abs().max() > 1.0
    assert BinarizerScheduleHook.update_states(layer) == isinstance(
        layer.weight_quantizer, WeightStateDependent)
    fp = BinaryConv2d(4, 6, 3)
    assert not BinarizerScheduleHook.constrain_weights(fp)
    assert not BinarizerScheduleHook.update_states(fp)
    assert fp.quantized_weight() is fp.weight


def test_xnor_latent_weights_mean_centred_then_clamped():
    """XNOR-Net's util.lua: subtract the mean over input channels, then
    clamp to [-1, 1] (hand values)."""
    layer = BinaryConv2d(
        2,
        1,
        1,
        binarizer=dict(type='xnor', latent_center=True, latent_clip=1.0))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[[3.0]], [[-0.5]]]]))
    assert layer.weight_quantizer.constrain(layer.weight)
    # mean 1.25 -> [1.75, -1.75] -> clamp -> [1, -1]
    assert layer.weight.flatten().tolist() == [1.0, -1.0]
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[[[0.5]], [[0.1]]]]))
    layer.weight_quantizer.constrain(layer.weight)
    torch.testing.assert_close(layer.weight.flatten(),
                               torch.tensor([0.2, -0.2]))
