"""The named binarization methods.

A binarizer is a registered function returning the configs of a binary
layer's three roles: ``input_quantizer`` (activation), ``weight_quantizer``
and ``output_scale`` (None when the method has none). Layers take the name:
``dict(type='BinaryConv2d', binarizer='irnet')`` or, to change a method's
hyper-parameters, ``binarizer=dict(type='irnet', t_min=1e-3)``.

Add a method with ``@BINARIZERS.register_module('name')``.

| name | activation | weight | output scale |
|---|---|---|---|
| bnn | SteSign | SteSignWeight (latent clip 1) | - |
| xnor | SteSign | ScaledSignWeight | XNORScale |
| dorefa | SteSign | ScaledSignWeight | - |
| bireal | ApproxSign | ScaledSignWeight (magnitude-aware) | - |
| xnorpp | SteSign | SteSignWeight | GammaScale |
| irnet | EDESign | LibraPBWeight | - |
| rbnn | RBNNSign | RBNNWeight | ChannelScale |
| reactnet | RSign | ScaledSignWeight | - |
| recu | ReCUSign | ReCUWeight | ChannelScale |
| fda | FourierSign | ScaledSignWeight (FourierGrad) | - |
"""
from typing import Dict, List, Optional, Tuple, Union

from cmim_dense.registry import BINARIZERS

ROLES = ('input_quantizer', 'weight_quantizer', 'output_scale')
BinarizerSpec = Dict[str, Optional[dict]]


def _spec(input_quantizer: dict,
          weight_quantizer: dict,
          output_scale: Optional[dict] = None) -> BinarizerSpec:
    return dict(
        input_quantizer=input_quantizer,
        weight_quantizer=weight_quantizer,
        output_scale=output_scale)


@BINARIZERS.register_module('bnn')
def bnn(latent_clip: Optional[float] = 1.0) -> BinarizerSpec:
    """BNN (Hubara et al. 2016): sign / sign, clip STE, latent clip."""
    return _spec(
        dict(type='SteSign'),
        dict(type='SteSignWeight', latent_clip=latent_clip))


@BINARIZERS.register_module('xnor')
def xnor(mode: str = 'sample') -> BinarizerSpec:
    """XNOR-Net (Rastegari et al. 2016): beta sign(x), alpha_w sign(W)."""
    return _spec(
        dict(type='SteSign'), dict(type='ScaledSignWeight'),
        dict(type='XNORScale', mode=mode))


@BINARIZERS.register_module('dorefa')
def dorefa() -> BinarizerSpec:
    """DoReFa-Net 1-bit (Zhou et al. 2016): sign(x), alpha_w sign(W)."""
    return _spec(dict(type='SteSign'), dict(type='ScaledSignWeight'))


@BINARIZERS.register_module('bireal')
def bireal() -> BinarizerSpec:
    """Bi-Real Net (Liu et al. 2018): ApproxSign, magnitude-aware weights."""
    return _spec(
        dict(type='ApproxSign'),
        dict(type='ScaledSignWeight', scale_grad=True))


@BINARIZERS.register_module('xnorpp')
def xnorpp(spatial_size: Optional[Tuple[int, int]] = None) -> BinarizerSpec:
    """XNOR-Net++ (Bulat & Tzimiropoulos 2019): learnable output Gamma."""
    return _spec(
        dict(type='SteSign'), dict(type='SteSignWeight'),
        dict(type='GammaScale', spatial_size=spatial_size))


@BINARIZERS.register_module('irnet')
def irnet(t_min: float = 1e-2, t_max: float = 1e1) -> BinarizerSpec:
    """IR-Net (Qin et al. 2020): Libra-PB weights, EDE on both."""
    grad = dict(type='EDEGrad', t_min=t_min, t_max=t_max)
    return _spec(
        dict(type='EDESign', grad=grad), dict(type='LibraPBWeight', grad=grad))


@BINARIZERS.register_module('rbnn')
def rbnn(t_min: float = 1e-2, t_max: float = 1e1) -> BinarizerSpec:
    """RBNN (Lin et al. 2020): rotated weights, learnable channel scale."""
    grad = dict(type='RBNNGrad', t_min=t_min, t_max=t_max)
    return _spec(
        dict(type='RBNNSign', grad=grad), dict(type='RBNNWeight', grad=grad),
        dict(type='ChannelScale'))


@BINARIZERS.register_module('reactnet')
def reactnet() -> BinarizerSpec:
    """ReActNet (Liu et al. 2020): RSign, alpha_w sign(W)."""
    return _spec(dict(type='RSign'), dict(type='ScaledSignWeight'))


@BINARIZERS.register_module('recu')
def recu(tau_min: float = 0.85, tau_max: float = 0.99) -> BinarizerSpec:
    """ReCU (Xu et al. 2021): normalised activations, clamped weights."""
    return _spec(
        dict(type='ReCUSign'),
        dict(type='ReCUWeight', tau_min=tau_min, tau_max=tau_max),
        dict(type='ChannelScale'))


@BINARIZERS.register_module('fda')
def fda(omega: float = 0.1,
        n_start: int = 9,
        n_end: int = 18) -> BinarizerSpec:
    """FDA (Xu et al. 2021): Fourier-series gradients on both."""
    grad = dict(type='FourierGrad', omega=omega, n_start=n_start, n_end=n_end)
    return _spec(
        dict(type='FourierSign', grad=grad),
        dict(type='ScaledSignWeight', grad=grad))


def available_binarizers() -> List[str]:
    """Names of the registered binarization methods, in registration order."""
    BINARIZERS.import_from_location()
    return list(BINARIZERS.module_dict)


def build_binarizer(binarizer: Union[str, dict]) -> BinarizerSpec:
    """Resolve a binarizer name or config to its three role configs.

    Args:
        binarizer (str | dict): A name of :func:`available_binarizers` or
            ``dict(type=name, **hyper_parameters)``.

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
    return BINARIZERS.build(cfg)
