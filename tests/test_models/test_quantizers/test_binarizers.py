"""The named binarization methods against REFERENCE.md section 2's table."""
import inspect

import pytest
import torch

import cmim_dense
from cmim_dense.models.quantizers import (ROLES, ApproxSignGrad, ClipSTE,
                                          EDEGrad, FourierGrad, IdentitySTE,
                                          RBNNGrad, available_binarizers,
                                          build_binarizer)
from cmim_dense.registry import QUANTIZERS

NAMES = [
    'bnn', 'xnor', 'dorefa', 'bireal', 'xnorpp', 'irnet', 'rbnn', 'reactnet',
    'recu', 'fda'
]

# name: (activation, weight, output scale) types, from the REFERENCE table
TABLE = {
    'bnn': ('SteSign', 'SteSignWeight', None),
    'xnor': ('SteSign', 'ScaledSignWeight', 'XNORScale'),
    'dorefa': ('SteSign', 'ScaledSignWeight', None),
    'bireal': ('ApproxSign', 'ScaledSignWeight', None),
    'xnorpp': ('SteSign', 'SteSignWeight', 'GammaScale'),
    'irnet': ('EDESign', 'LibraPBWeight', None),
    'rbnn': ('RBNNSign', 'RBNNWeight', 'ChannelScale'),
    'reactnet': ('RSign', 'ScaledSignWeight', None),
    'recu': ('ReCUSign', 'ReCUWeight', 'ChannelScale'),
    'fda': ('FourierSign', 'ScaledSignWeight', None),
}

# backward column of the table: surrogate type of (activation, weight)
SURROGATES = {
    'bnn': (ClipSTE, ClipSTE),
    'xnor': (ClipSTE, ClipSTE),
    'dorefa': (ClipSTE, ClipSTE),
    'bireal': (ApproxSignGrad, ClipSTE),
    'xnorpp': (ClipSTE, ClipSTE),
    'irnet': (EDEGrad, EDEGrad),
    'rbnn': (RBNNGrad, RBNNGrad),
    'reactnet': (ApproxSignGrad, ClipSTE),
    'recu': (ApproxSignGrad, IdentitySTE),
    'fda': (FourierGrad, FourierGrad),
}

LAYER_ARGS = dict(
    in_channels=4,
    out_channels=6,
    weight_shape=(6, 4, 3, 3),
    channel_dim=1,
    kernel_size=(3, 3),
    stride=(1, 1),
    dilation=(1, 1),
    pad=(1, 1, 1, 1))


def build_role(cfg):
    """Build a role config, filling in the layer arguments its class takes
    (what a binary conv layer does)."""
    cfg = dict(cfg)
    cls = QUANTIZERS.get(cfg['type'])
    params = inspect.signature(cls.__init__).parameters
    for key, value in LAYER_ARGS.items():
        if key in params and key not in cfg:
            cfg[key] = value
    return QUANTIZERS.build(cfg)


def test_available_binarizers_exact():
    assert available_binarizers() == NAMES
    assert cmim_dense.available_binarizers() == NAMES
    assert list(TABLE) == NAMES


def test_roles():
    assert ROLES == ('input_quantizer', 'weight_quantizer', 'output_scale')


@pytest.mark.parametrize(
    'bad', ['nope', dict(type='nope'),
            dict(), '', dict(type=3)])
def test_unknown_binarizer(bad):
    with pytest.raises(ValueError) as info:
        build_binarizer(bad)
    for name in NAMES:
        assert name in str(info.value)


def test_unknown_binarizer_message_names_the_bad_one():
    with pytest.raises(ValueError, match='nope'):
        build_binarizer('nope')


@pytest.mark.parametrize('name', NAMES)
def test_role_types_match_reference(name):
    spec = build_binarizer(name)
    assert set(spec) == set(ROLES)
    act, weight, scale = TABLE[name]
    assert spec['input_quantizer']['type'] == act
    assert spec['weight_quantizer']['type'] == weight
    if scale is None:
        assert spec['output_scale'] is None
    else:
        assert spec['output_scale']['type'] == scale
    assert build_binarizer(dict(type=name)) == spec


@pytest.mark.parametrize('name', NAMES)
def test_roles_build_and_have_reference_surrogates(name):
    spec = build_binarizer(name)
    act = build_role(spec['input_quantizer'])
    weight = build_role(spec['weight_quantizer'])
    act_grad, weight_grad = SURROGATES[name]
    assert type(act.grad) is act_grad
    assert type(weight.grad) is weight_grad
    assert act.grad is not weight.grad  # no shared scheduled state
    if spec['output_scale'] is not None:
        build_role(spec['output_scale'])
    # forward on a small input: binary activation, binary (scaled) weight
    x = torch.randn(2, 4, 5, 5)
    assert set(act(x).unique().tolist()) <= {-1.0, 1.0}
    w = torch.randn(6, 4, 3, 3)
    qw = weight(w)
    assert qw.shape == w.shape and (qw != 0).all()
    # one magnitude per output channel
    per_channel = qw.abs().flatten(1)
    assert torch.allclose(per_channel, per_channel[:, :1])


def test_specific_hyper_parameters_of_the_table():
    assert build_binarizer('bnn')['weight_quantizer']['latent_clip'] == 1.0
    assert build_binarizer('bireal')['weight_quantizer']['scale_grad'] is True
    for name in ('xnor', 'dorefa', 'reactnet', 'fda'):
        assert not build_binarizer(name)['weight_quantizer'].get(
            'scale_grad', False)
    assert build_binarizer('xnor')['output_scale']['mode'] == 'sample'
    fda = build_binarizer('fda')
    for role in ('input_quantizer', 'weight_quantizer'):
        assert fda[role]['grad'] == dict(
            type='FourierGrad', omega=0.1, n_start=9, n_end=18)
    recu = build_binarizer('recu')['weight_quantizer']
    assert (recu['tau_min'], recu['tau_max']) == (0.85, 0.99)
    for name, grad in (('irnet', 'EDEGrad'), ('rbnn', 'RBNNGrad')):
        spec = build_binarizer(name)
        for role in ('input_quantizer', 'weight_quantizer'):
            assert spec[role]['grad'] == dict(type=grad, t_min=1e-2, t_max=1e1)


def test_irnet_hyper_parameters_propagate():
    spec = build_binarizer(dict(type='irnet', t_min=1e-3))
    for role in ('input_quantizer', 'weight_quantizer'):
        assert spec[role]['grad']['t_min'] == 1e-3
        assert spec[role]['grad']['t_max'] == 1e1
        module = build_role(spec[role])
        assert module.grad.t_min == 1e-3
        assert module.grad.t.item() == pytest.approx(1e-3, rel=1e-6)
        assert module.grad.k.item() == pytest.approx(1e3, rel=1e-6)


def test_other_hyper_parameters_propagate():
    rbnn = build_binarizer(dict(type='rbnn', t_min=1e-3, t_max=5.0))
    assert rbnn['weight_quantizer']['grad']['t_max'] == 5.0
    recu = build_binarizer(dict(type='recu', tau_min=0.8, tau_max=0.95))
    q = build_role(recu['weight_quantizer'])
    assert q.tau.item() == pytest.approx(0.8, rel=1e-6)
    q.set_progress(1.0)
    assert q.tau.item() == pytest.approx(0.95, rel=1e-6)
    fda = build_binarizer(dict(type='fda', omega=0.2, n_start=3, n_end=5))
    q = build_role(fda['input_quantizer'])
    assert (q.grad.omega, q.grad.n.item()) == (0.2, 3)
    xnor = build_binarizer(dict(type='xnor', mode='spatial'))
    assert build_role(xnor['output_scale']).mode == 'spatial'
    xnorpp = build_binarizer(dict(type='xnorpp', spatial_size=(8, 8)))
    assert build_role(xnorpp['output_scale']).spatial_size == (8, 8)
    bnn = build_binarizer(dict(type='bnn', latent_clip=None))
    assert build_role(bnn['weight_quantizer']).latent_clip is None


def test_unknown_hyper_parameter_fails():
    with pytest.raises(TypeError, match='foo'):
        build_binarizer(dict(type='irnet', foo=1))


def test_build_does_not_consume_or_share_configs():
    cfg = dict(type='irnet', t_min=1e-3)
    build_binarizer(cfg)
    assert cfg == dict(type='irnet', t_min=1e-3)
    first = build_binarizer('irnet')
    first['input_quantizer']['grad']['t_min'] = 5.0
    assert build_binarizer('irnet')['input_quantizer']['grad']['t_min'] == \
        1e-2
