"""Activation quantizers: latent FP activation in, binary activation out.

In a binary layer the activation quantizer is the submodule
``input_quantizer``: a forward hook on it sees the latent FP activation as its
input and the binary activation as its output (what CMIM records). Every
quantizer here but :class:`DoReFaActivation` is ``sign`` in the forward pass
(``levels = (-1, 1)``); they differ by the surrogate derivative of the
backward pass (a submodule ``grad``) and, for RSign, RBNN and ReCU, by a
transform applied before ``sign``. DoReFa's 1-bit activation produces
``{0, 1}`` (``levels = (0, 1)``). Per-method behaviour and its sources:
``docs/methods.md``.
"""
from typing import Optional, Union

import torch
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS, SURROGATE_GRADS
from .base import BaseQuantizer, binarize, channel_view, check_sign_zero


def build_surrogate(cfg: Optional[dict], default: Union[str,
                                                        dict]) -> nn.Module:
    """Build a surrogate-gradient module (``SURROGATE_GRADS``) from a config
    or a default."""
    if cfg is None:
        cfg = dict(type=default) if isinstance(default, str) else default
    return SURROGATE_GRADS.build(dict(cfg))


def standardize_samples(x: Tensor, eps: float = 0.0) -> Tensor:
    """``(x - mean) / std`` over all non-batch dims of each sample (RBNN).

    ``std`` is the unbiased one, as ``torch.std``; the gradient flows
    through both statistics.
    """
    dims = tuple(range(1, x.dim()))
    centered = x - x.mean(dims, keepdim=True)
    return centered / (centered.std(dims, keepdim=True) + eps)


@QUANTIZERS.register_module()
class SignQuantizer(BaseQuantizer):
    """``sign(x)`` with a configurable surrogate derivative.

    Forward: ``+1`` if ``x >= 0`` else ``-1`` (NaN propagates).
    Backward: ``dL/dx = dL/dy * grad(x)``.

    Args:
        grad (dict, optional): Config of the surrogate derivative, e.g.
            ``dict(type='EDEGrad', t_min=1e-3)``. Defaults to the class's
            ``default_grad`` (``ClipSTE`` here).
        sign_zero (float): ``sign(0)``: +1 (our convention, two values
            only) or 0 (``torch.sign``, the PyTorch originals).
            Defaults to 1.
    """

    default_grad: Union[str, dict] = 'ClipSTE'

    def __init__(self,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__()
        self.grad = build_surrogate(grad, self.default_grad)
        self.sign_zero = check_sign_zero(sign_zero)

    def forward(self, x: Tensor) -> Tensor:
        return binarize(x, self.grad, zero=self.sign_zero)


@QUANTIZERS.register_module()
class SteSign(SignQuantizer):
    """BNN / XNOR-Net / DoReFa / XNOR++ activation: ``sign(x)``, clip STE.

    Backward: ``dL/dx = dL/dy * 1[|x| <= 1]``.
    """

    default_grad = 'ClipSTE'


@QUANTIZERS.register_module()
class ApproxSign(SignQuantizer):
    """Bi-Real activation: ``sign(x)`` with the ApproxSign derivative.

    Backward: ``dL/dx = dL/dy * max(0, 2 - 2|x|)``.
    """

    default_grad = 'ApproxSignGrad'


@QUANTIZERS.register_module()
class EDESign(SignQuantizer):
    """IR-Net activation: ``sign(x)`` with the Error Decay Estimator.

    Backward: ``dL/dx = dL/dy * k * t * (1 - tanh(t x) ** 2)``, ``t, k``
    scheduled (:class:`~.surrogate_grads.EDEGrad`).
    """

    default_grad = 'EDEGrad'


@QUANTIZERS.register_module()
class RBNNSign(SignQuantizer):
    """RBNN activation: ``sign(a_s)`` with RBNN's approximation.

    With ``standardize`` (RBNN's released code) each sample is standardized
    first, ``a_s = (a - mean) / std`` over all non-batch dims (unbiased std,
    gradient through the statistics); without it (the paper) ``a_s = a``.
    Backward: ``dL/da_s = dL/dy * k * max(0, sqrt(2) t - t ** 2 |a_s|)``
    (:class:`~.surrogate_grads.RBNNGrad`); the default uses the code's
    activation constants ``k = 1``, ``t = max(t, 1)``.

    Args:
        standardize (bool): Standardize each sample. Defaults to True.
        eps (float): Added to the std. Defaults to 0 (as the code).
        grad (dict, optional): Surrogate derivative. Defaults to
            ``dict(type='RBNNGrad', activation=True)``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = dict(type='RBNNGrad', activation=True)

    def __init__(self,
                 standardize: bool = True,
                 eps: float = 0.0,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        self.standardize, self.eps = standardize, eps

    def forward(self, x: Tensor) -> Tensor:
        if self.standardize:
            x = standardize_samples(x, self.eps)
        return binarize(x, self.grad, zero=self.sign_zero)

    def extra_repr(self) -> str:
        return f'standardize={self.standardize}'


@QUANTIZERS.register_module()
class FourierSign(SignQuantizer):
    """FDA activation: ``sign(x)`` with the Fourier-series derivative.

    Backward: ``dL/dx = dL/dy * (4 w / pi) sum_{i<=n} cos((2i+1) w x)`` on
    ``|x| <= 1`` (:class:`~.surrogate_grads.FourierGrad`). With ``noise``
    (FDA's noise adaptation, :class:`~.noise_adaptation.NoiseAdaptation`)
    the training output is ``sign(x) + alpha * e(x)``.

    Args:
        grad (dict, optional): Surrogate derivative. Defaults to
            ``FourierGrad``.
        noise (dict, optional): Config of the noise-adaptation module
            (``features``, ``mode`` and ``channel_dim`` are filled in).
            Defaults to None (no noise adaptation).
        in_channels (int, optional): Channels (filled in by the layer);
            needed with ``noise``.
        channel_dim (int): Channel axis (filled in by the layer).
            Defaults to 1.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = 'FourierGrad'

    def __init__(self,
                 grad: Optional[dict] = None,
                 noise: Optional[dict] = None,
                 in_channels: Optional[int] = None,
                 channel_dim: int = 1,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        self.noise = None
        if noise is not None:
            if in_channels is None:
                raise ValueError('FourierSign with noise adaptation needs '
                                 'in_channels (a binary layer fills it in)')
            self.noise = QUANTIZERS.build(
                dict(
                    noise,
                    features=in_channels,
                    mode='activation',
                    channel_dim=channel_dim))

    def forward(self, x: Tensor) -> Tensor:
        out = binarize(x, self.grad, zero=self.sign_zero)
        return out if self.noise is None else out + self.noise(x)


@QUANTIZERS.register_module()
class RSign(SignQuantizer):
    """ReActNet's RSign: ``sign(x - beta_c)``, a learnable shift per channel.

    Backward: ApproxSign derivative at ``x - beta_c``; ``beta_c`` receives
    ``-sum`` of that gradient over its channel.

    Args:
        in_channels (int): Number of channels (filled in by the layer).
        channel_dim (int): Channel axis of the input (1 for conv inputs,
            -1 for linear inputs; filled in by the layer). Defaults to 1.
        grad (dict, optional): Surrogate derivative. Defaults to
            ``ApproxSignGrad``.
    """

    default_grad = 'ApproxSignGrad'

    def __init__(self,
                 in_channels: int,
                 channel_dim: int = 1,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        if in_channels <= 0:
            raise ValueError(f'in_channels must be positive, got '
                             f'{in_channels}')
        self.channel_dim = channel_dim
        self.bias = nn.Parameter(torch.zeros(in_channels))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[self.channel_dim] != self.bias.numel():
            raise ValueError(
                f'RSign expects {self.bias.numel()} channels on dim '
                f'{self.channel_dim}, got input of shape {tuple(x.shape)}')
        shift = channel_view(self.bias, x.dim(), self.channel_dim)
        return binarize(x - shift.to(x.dtype), self.grad, zero=self.sign_zero)


@QUANTIZERS.register_module()
class ReCUSign(SignQuantizer):
    """ReCU activation: ``sign(x / std(x))`` in training.

    In training, ``x`` is divided by ``sqrt(var(x) + eps)`` over all
    non-batch dims of each sample (gradient flows through it), which leaves
    the sign unchanged but moves the surrogate window.
    Backward: ``dL/dx_n = dL/dy * max(0, 2 - 2 |x_n|)`` at the normalised
    ``x_n``.

    Args:
        eps (float): Added to the variance. Defaults to 1e-5.
        grad (dict, optional): Surrogate derivative. Defaults to
            ``ApproxSignGrad``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = 'ApproxSignGrad'

    def __init__(self,
                 eps: float = 1e-5,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            dims = tuple(range(1, x.dim()))
            x = x / torch.sqrt(x.var(dims, keepdim=True) + self.eps)
        return binarize(x, self.grad, zero=self.sign_zero)


@QUANTIZERS.register_module()
class DoReFaActivation(BaseQuantizer):
    """DoReFa-Net's 1-bit activation: ``round(clip(x, 0, 1))`` in ``{0, 1}``.

    Forward: ``0`` for ``x < 0.5`` (``x = 0.5`` rounds half to even, to 0),
    ``1`` for ``x > 0.5``; NaN propagates. Backward (straight-through through
    the rounding, the clip's own derivative):
    ``dL/dx = dL/dy * 1[0 <= x <= 1]``. ``levels = (0, 1)``: a binary conv
    pads such an input with 0 and still counts its MACs as BOPs.
    """

    levels = (0.0, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        clipped = x.clamp(0, 1)
        return clipped + (torch.round(clipped) - clipped).detach()
