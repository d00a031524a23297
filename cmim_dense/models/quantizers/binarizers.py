"""The named binarization methods.

A binarizer is a registered function returning the configs of a binary
layer's three roles: ``input_quantizer`` (activation), ``weight_quantizer``
and ``output_scale`` (None when the method has none). Layers take the name:
``dict(type='BinaryConv2d', binarizer='irnet')`` or, to change a method's
hyper-parameters, ``binarizer=dict(type='irnet', t_min=1e-3)``. Every
binarizer also takes ``sign_zero`` (``sign(0)``: +1 by default, 0 for
``torch.sign`` as in the PyTorch originals), applied to its sign-based roles.

The defaults follow each method's released code; the paper's form, where
it differs, is an argument. ``docs/methods.md`` lists both, per method, with
the original source files.

| name | activation | weight | output scale |
|---|---|---|---|
| bnn | SteSign | SteSignWeight (latent clip 1) | - |
| xnor | SteSign | ScaledSignWeight | - (XNORScale: ``mode``) |
| dorefa | DoReFaActivation ``{0, 1}`` | ScaledSignWeight (per tensor, identity STE) | - |
| bireal | ApproxSign | ScaledSignWeight (clip STE) | - |
| xnorpp | SteSign | SteSignWeight | GammaScale |
| irnet | EDESign | LibraPBWeight (gradient through the scale) | - |
| rbnn | RBNNSign (standardized) | RBNNWeight | ChannelScale (mean abs W) |
| reactnet | RSign | ScaledSignWeight | - |
| recu | ReCUSign | ReCUWeight (gain 2 sqrt 2) | ChannelScale (U[0, 1)) |
| fda | FourierSign + noise | FDAWeight + noise | - |
"""
import inspect
from typing import Dict, List, Optional, Tuple, Union

from cmim_dense.registry import BINARIZERS, QUANTIZERS

ROLES = ('input_quantizer', 'weight_quantizer', 'output_scale')
BinarizerSpec = Dict[str, Optional[dict]]


def _spec(input_quantizer: dict,
          weight_quantizer: dict,
          output_scale: Optional[dict] = None) -> BinarizerSpec:
    return dict(
        input_quantizer=input_quantizer,
        weight_quantizer=weight_quantizer,
        output_scale=output_scale)


def _choice(method: str, name: str, value: str, choices: Tuple) -> str:
    if value not in choices:
        raise ValueError(f'binarizer {method!r}: {name} must be one of '
                         f'{choices}, got {value!r}')
    return value


@BINARIZERS.register_module('bnn')
def bnn(latent_clip: Optional[float] = 1.0) -> BinarizerSpec:
    """BNN (Hubara et al. 2016): sign / sign, clip STE, latent clip."""
    return _spec(
        dict(type='SteSign'),
        dict(type='SteSignWeight', latent_clip=latent_clip))


@BINARIZERS.register_module('xnor')
def xnor(mode: Optional[str] = None,
         latent_center: bool = False,
         latent_clip: Optional[float] = None,
         grad_rescale: bool = False) -> BinarizerSpec:
    """XNOR-Net (Rastegari et al. 2016): sign(x), alpha_w sign(W).

    The released code applies no activation scale (``mode=None``); the
    paper's ``beta`` per sample (``'sample'``) and map ``K``
    (``'spatial'``) are options. Its training also mean-centres and clamps
    the latent weights (``latent_center=True, latent_clip=1.0``) and
    rescales their gradient (``grad_rescale=True``,
    :class:`~.surrogate_grads.XNORWeightGrad`).
    """
    if mode is not None:
        _choice('xnor', 'mode', mode, ('sample', 'spatial'))
    weight = dict(
        type='ScaledSignWeight',
        latent_center=latent_center,
        latent_clip=latent_clip)
    if grad_rescale:
        weight['grad'] = dict(type='XNORWeightGrad')
    scale = None if mode is None else dict(type='XNORScale', mode=mode)
    return _spec(dict(type='SteSign'), weight, scale)


@BINARIZERS.register_module('dorefa')
def dorefa() -> BinarizerSpec:
    """DoReFa-Net 1-bit (Zhou et al. 2016): {0, 1} activations, E sign(W).

    Activations ``round(clip(x, 0, 1))`` with a straight-through gradient;
    weights ``E * sign(W)`` with one ``E = mean |W|`` per tensor and an
    identity straight-through gradient (paper and code agree).
    """
    return _spec(
        dict(type='DoReFaActivation'),
        dict(
            type='ScaledSignWeight',
            granularity='tensor',
            grad=dict(type='IdentitySTE')))


@BINARIZERS.register_module('bireal')
def bireal(weight_grad: str = 'clip') -> BinarizerSpec:
    """Bi-Real Net (Liu et al. 2018): ApproxSign, alpha_w sign(W).

    ``weight_grad='clip'`` (the released PyTorch code): clipped STE;
    ``'magnitude'`` (the paper, larq): times ``alpha_w``.
    """
    _choice('bireal', 'weight_grad', weight_grad, ('clip', 'magnitude'))
    return _spec(
        dict(type='ApproxSign'),
        dict(type='ScaledSignWeight', scale_grad=weight_grad == 'magnitude'))


@BINARIZERS.register_module('xnorpp')
def xnorpp(spatial_size: Optional[Tuple[int, int]] = None) -> BinarizerSpec:
    """XNOR-Net++ (Bulat & Tzimiropoulos 2019): learnable output Gamma.

    Default: per-channel Gamma only (equals ``bnn`` after a batch norm);
    ``spatial_size`` adds the row/column factors, resized to other sizes.
    """
    return _spec(
        dict(type='SteSign'), dict(type='SteSignWeight'),
        dict(type='GammaScale', spatial_size=spatial_size))


@BINARIZERS.register_module('irnet')
def irnet(t_min: float = 1e-2,
          t_max: float = 1e1,
          scale_grad: bool = True) -> BinarizerSpec:
    """IR-Net (Qin et al. 2020): Libra-PB weights, EDE on both.

    The released code multiplies the binary weight by its power-of-two
    scale after the straight-through sign, so the weight gradient includes
    the scale (``scale_grad=True``).
    """
    grad = dict(type='EDEGrad', t_min=t_min, t_max=t_max)
    return _spec(
        dict(type='EDESign', grad=grad),
        dict(type='LibraPBWeight', grad=grad, scale_grad=scale_grad))


@BINARIZERS.register_module('rbnn')
def rbnn(t_min: float = 1e-2,
         t_max: float = 1e1,
         form: str = 'code',
         rotation_steps: int = 3) -> BinarizerSpec:
    """RBNN (Lin et al. 2020): rotated weights, learnable channel scale.

    ``form='code'`` (released code): activations standardized per sample,
    activation gradient with ``k = 1, t = max(t, 1)``, rotated weight
    detached in the mix, scale initialised to ``mean |W|``. ``'paper'``:
    plain sign, the weights' ``t, k`` on activations, gradient through the
    rotation, scale initialised to 1. The rotations are updated once per
    epoch (the weight quantizer's ``update_state``, driven by the schedule
    hook) with ``rotation_steps`` alternating steps.
    """
    _choice('rbnn', 'form', form, ('code', 'paper'))
    code = form == 'code'
    grad = dict(type='RBNNGrad', t_min=t_min, t_max=t_max)
    return _spec(
        dict(
            type='RBNNSign',
            standardize=code,
            grad=dict(grad, activation=code)),
        dict(
            type='RBNNWeight',
            grad=grad,
            detach_rotation=code,
            rotation_steps=rotation_steps),
        dict(type='ChannelScale', init='weight' if code else 1.0))


@BINARIZERS.register_module('reactnet')
def reactnet() -> BinarizerSpec:
    """ReActNet (Liu et al. 2020): RSign, alpha_w sign(W)."""
    return _spec(dict(type='RSign'), dict(type='ScaledSignWeight'))


@BINARIZERS.register_module('recu')
def recu(tau_min: float = 0.85,
         tau_max: float = 0.99,
         gain: float = 2 * 2**0.5,
         scale_init: Union[float, str] = 'uniform') -> BinarizerSpec:
    """ReCU (Xu et al. 2021): normalised activations, clamped weights.

    Code defaults: standardised weights times ``gain = 2 sqrt 2``, scale
    initialised ``U[0, 1)``; the paper's plain standardisation is
    ``gain=1``.
    """
    return _spec(
        dict(type='ReCUSign'),
        dict(type='ReCUWeight', tau_min=tau_min, tau_max=tau_max, gain=gain),
        dict(type='ChannelScale', init=scale_init))


@BINARIZERS.register_module('fda')
def fda(omega: float = 0.1,
        n_start: int = 9,
        n_end: int = 18,
        noise_adapt: bool = True,
        noise_reduction: int = 64) -> BinarizerSpec:
    """FDA (Xu et al. 2021): Fourier-series gradients on both.

    The weight gradient goes through the scaled sign (includes
    ``alpha_w``); with ``noise_adapt`` (the method's noise-adaptation
    module, on in the PyTorch re-implementation) a learnt residual
    ``alpha * e(.)`` is added to both binary values in training.
    """
    grad = dict(type='FourierGrad', omega=omega, n_start=n_start, n_end=n_end)
    noise = dict(type='NoiseAdaptation', reduction=noise_reduction) \
        if noise_adapt else None
    return _spec(
        dict(type='FourierSign', grad=grad, noise=noise),
        dict(type='FDAWeight', grad=grad, noise=noise))


def _accepts(cfg: Optional[dict], name: str) -> bool:
    if cfg is None:
        return False
    cls = cfg['type']
    cls = QUANTIZERS.get(cls) if isinstance(cls, str) else cls
    return cls is not None and name in inspect.signature(
        cls.__init__).parameters


def available_binarizers() -> List[str]:
    """Names of the registered binarization methods, in registration order."""
    BINARIZERS.import_from_location()
    return list(BINARIZERS.module_dict)


def build_binarizer(binarizer: Union[str, dict]) -> BinarizerSpec:
    """Resolve a binarizer name or config to its three role configs.

    Args:
        binarizer (str | dict): A name of :func:`available_binarizers` or
            ``dict(type=name, **hyper_parameters)``; ``sign_zero`` is
            accepted by every binarizer.

    Returns:
        dict: Configs (or None) keyed by ``input_quantizer``,
        ``weight_quantizer`` and ``output_scale``.

    Raises:
        ValueError: Unknown name (the message lists the valid ones).
    """
    cfg = dict(type=binarizer) if isinstance(binarizer, str) else \
        dict(binarizer)
    name = cfg.get('type')
    if not isinstance(name, str) or name not in available_binarizers():
        raise ValueError(f'unknown binarizer {name!r}; available: '
                         f'{", ".join(available_binarizers())}')
    sign_zero = cfg.pop('sign_zero', None)
    spec = BINARIZERS.build(cfg)
    if sign_zero is not None:
        for role in ROLES:
            if _accepts(spec[role], 'sign_zero'):
                spec[role] = dict(spec[role], sign_zero=sign_zero)
    return spec
