"""The named binarization methods: role types and hyper-parameters as the
authors' released code (see ``docs/methods.md``), table-driven over the
registered binarizers so that a new one needs no edit here."""
import importlib
import inspect
import os.path as osp
import pkgutil
import sys

import pytest
import torch

from cmim_dense.models.quantizers import (ROLES, available_binarizers,
                                          build_binarizer)
from cmim_dense.models.quantizers.surrogate_grads import (
    ApproxSignGrad, ClipSTE, EDEGrad, FourierGrad, IdentitySTE, RBNNGrad,
    XNORWeightGrad)
from cmim_dense.registry import QUANTIZERS

BINARIZERS = available_binarizers()
REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))

# name: (activation, weight, output scale) types of the package's methods
TABLE = {
    'bnn': ('SteSign', 'SteSignWeight', None),
    'xnor': ('SteSign', 'ScaledSignWeight', None),
    'dorefa': ('DoReFaActivation', 'ScaledSignWeight', None),
    'bireal': ('ApproxSign', 'ScaledSignWeight', None),
    'xnorpp': ('SteSign', 'SteSignWeight', 'GammaScale'),
    'irnet': ('EDESign', 'LibraPBWeight', None),
    'rbnn': ('RBNNSign', 'RBNNWeight', 'ChannelScale'),
    'reactnet': ('RSign', 'ScaledSignWeight', None),
    'recu': ('ReCUSign', 'ReCUWeight', 'ChannelScale'),
    'fda': ('FourierSign', 'FDAWeight', None),
}

# backward: surrogate type of (activation, weight); None: no surrogate
SURROGATES = {
    'bnn': (ClipSTE, ClipSTE),
    'xnor': (ClipSTE, ClipSTE),
    'dorefa': (None, IdentitySTE),
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


def test_documented_methods_are_registered():
    assert set(TABLE) <= set(BINARIZERS)
    assert set(SURROGATES) == set(TABLE)


def test_every_module_of_the_package_is_imported():
    """A method added as a new module of ``cmim_dense.models.quantizers``
    is registered by importing the package, with no other edit."""
    package = importlib.import_module('cmim_dense.models.quantizers')
    for module in pkgutil.iter_modules(package.__path__):
        assert f'{package.__name__}.{module.name}' in sys.modules


def test_roles():
    assert ROLES == ('input_quantizer', 'weight_quantizer', 'output_scale')


@pytest.mark.parametrize(
    'bad', ['nope', dict(type='nope'),
            dict(), '', dict(type=3)])
def test_unknown_binarizer(bad):
    with pytest.raises(ValueError) as info:
        build_binarizer(bad)
    for name in BINARIZERS:
        assert name in str(info.value)


def test_unknown_binarizer_message_names_the_bad_one():
    with pytest.raises(ValueError, match='nope'):
        build_binarizer('nope')


@pytest.mark.parametrize('name', list(TABLE))
def test_role_types(name):
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
    act_grad, weight_grad = SURROGATES[name]
    built_act = build_role(spec['input_quantizer'])
    built_weight = build_role(spec['weight_quantizer'])
    if act_grad is None:
        assert not hasattr(built_act, 'grad')
    else:
        assert type(built_act.grad) is act_grad
    assert type(built_weight.grad) is weight_grad


@pytest.mark.parametrize('name', BINARIZERS)
def test_roles_build_and_produce_their_levels(name):
    """Every registered binarizer, evaluated: the activation takes its
    quantizer's two ``levels``, the weight one magnitude per channel."""
    spec = build_binarizer(name)
    act = build_role(spec['input_quantizer']).eval()
    weight = build_role(spec['weight_quantizer']).eval()
    if hasattr(act, 'grad') and hasattr(weight, 'grad'):
        assert act.grad is not weight.grad  # no shared scheduled state
    if spec['output_scale'] is not None:
        build_role(spec['output_scale'])
    x = 2 * torch.randn(2, 4, 5, 5)
    values = set(act(x).unique().tolist())
    assert values == {float(v) for v in act.levels}
    w = torch.randn(6, 4, 3, 3)
    qw = weight(w)
    assert qw.shape == w.shape and (qw != 0).all()
    per_channel = qw.abs().flatten(1)
    assert torch.allclose(per_channel, per_channel[:, :1])


@pytest.mark.parametrize('name', BINARIZERS)
def test_sign_zero_switch_reaches_every_sign_role(name):
    """The originals' ``torch.sign`` (sign(0) = 0) is one switch away."""
    spec = build_binarizer(dict(type=name, sign_zero=0.0))
    for role in ('input_quantizer', 'weight_quantizer'):
        module = build_role(spec[role]).eval()
        if 'sign_zero' in inspect.signature(type(module).__init__).parameters:
            assert module.sign_zero == 0.0
            assert spec[role]['sign_zero'] == 0.0
        else:
            assert 'sign_zero' not in spec[role]


@pytest.mark.parametrize('name', BINARIZERS)
def test_every_binarizer_has_a_row_in_the_methods_page(name):
    with open(osp.join(REPO, 'docs', 'methods.md')) as f:
        page = f.read()
    assert f'`{name}`' in page


def test_specific_hyper_parameters_of_the_table():
    assert build_binarizer('bnn')['weight_quantizer']['latent_clip'] == 1.0
    for name in ('xnor', 'dorefa', 'bireal', 'reactnet'):
        weight = build_role(build_binarizer(name)['weight_quantizer'])
        assert weight.scale_grad is False, name
    assert build_role(build_binarizer('fda')['weight_quantizer']).scale_grad
    fda = build_binarizer('fda')
    for role in ('input_quantizer', 'weight_quantizer'):
        assert fda[role]['grad'] == dict(
            type='FourierGrad', omega=0.1, n_start=9, n_end=18)
        assert fda[role]['noise'] == dict(type='NoiseAdaptation', reduction=64)
    assert build_binarizer(dict(
        type='fda', noise_adapt=False))['input_quantizer']['noise'] is None
    recu = build_binarizer('recu')
    assert (recu['weight_quantizer']['tau_min'],
            recu['weight_quantizer']['tau_max']) == (0.85, 0.99)
    assert recu['weight_quantizer']['gain'] == pytest.approx(2 * 2**0.5)
    assert recu['output_scale']['init'] == 'uniform'
    for name, grad in (('irnet', 'EDEGrad'), ('rbnn', 'RBNNGrad')):
        spec = build_binarizer(name)
        for role in ('input_quantizer', 'weight_quantizer'):
            cfg = dict(spec[role]['grad'])
            cfg.pop('activation', None)
            assert cfg == dict(type=grad, t_min=1e-2, t_max=1e1)
    dorefa = build_binarizer('dorefa')['weight_quantizer']
    assert dorefa['granularity'] == 'tensor'
    assert dorefa['grad'] == dict(type='IdentitySTE')


def test_code_and_paper_forms():
    """Defaults follow the released code; the paper forms are options."""
    paper = build_binarizer(dict(type='bireal', weight_grad='magnitude'))
    assert paper['weight_quantizer']['scale_grad'] is True
    with pytest.raises(ValueError, match='weight_grad'):
        build_binarizer(dict(type='bireal', weight_grad='magnitude-aware'))
    code = build_binarizer('rbnn')
    assert code['input_quantizer']['standardize'] is True
    assert code['input_quantizer']['grad']['activation'] is True
    assert code['weight_quantizer']['detach_rotation'] is True
    assert code['output_scale']['init'] == 'weight'
    paper = build_binarizer(dict(type='rbnn', form='paper'))
    assert paper['input_quantizer']['standardize'] is False
    assert paper['input_quantizer']['grad']['activation'] is False
    assert paper['weight_quantizer']['detach_rotation'] is False
    assert paper['output_scale']['init'] == 1.0
    with pytest.raises(ValueError, match='form'):
        build_binarizer(dict(type='rbnn', form='released'))
    xnor = build_binarizer(
        dict(
            type='xnor',
            mode='spatial',
            latent_center=True,
            latent_clip=1.0,
            grad_rescale=True))
    assert xnor['output_scale'] == dict(type='XNORScale', mode='spatial')
    weight = build_role(xnor['weight_quantizer'])
    assert weight.latent_center and weight.latent_clip == 1.0
    assert isinstance(weight.grad, XNORWeightGrad)
    with pytest.raises(ValueError, match='mode'):
        build_binarizer(dict(type='xnor', mode='K'))
    recu = build_binarizer(dict(type='recu', gain=1.0, scale_init=1.0))
    assert build_role(recu['weight_quantizer']).gain == 1.0


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
    xnor = build_binarizer(dict(type='xnor', mode='sample'))
    assert build_role(xnor['output_scale']).mode == 'sample'
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
