"""Surrogate derivatives of ``sign``: the backward passes of the binarizers.

Each module maps the latent input ``x`` to ``d sign~(x) / dx``; the quantizers
pass it to :func:`~cmim_dense.models.quantizers.base.binarize`. The scheduled
ones keep their parameters in buffers and follow training progress.

They are registered in :data:`~cmim_dense.registry.SURROGATE_GRADS`, not in
``QUANTIZERS``: a surrogate is what a quantizer's ``grad=`` config names,
never a role of a binary layer.
"""
import math

import torch
from torch import Tensor, nn

from cmim_dense.registry import SURROGATE_GRADS
from .base import ProgressDependent, out_channel_mean_abs
from .schedules import ede_t_k, fda_terms


class BaseSurrogateGrad(nn.Module):
    """Base class: ``forward(x)`` returns the derivative at ``x``.

    A module (not a :class:`~.base.BaseQuantizer`: it produces no binary
    values), so schedule buffers move with ``.to()`` and are saved.
    """

    def forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError


@SURROGATE_GRADS.register_module()
class ClipSTE(BaseSurrogateGrad):
    """Clipped straight-through estimator (BNN, XNOR-Net, DoReFa, XNOR++).

    ``d(x) = 1 if |x| <= clip else 0``.

    Args:
        clip (float): Half-width of the pass-through window. Defaults to 1.
    """

    def __init__(self, clip: float = 1.0) -> None:
        super().__init__()
        if clip <= 0:
            raise ValueError(f'clip must be positive, got {clip}')
        self.clip = clip

    def forward(self, x: Tensor) -> Tensor:
        return (x.abs() <= self.clip).to(x.dtype)

    def extra_repr(self) -> str:
        return f'clip={self.clip}'


@SURROGATE_GRADS.register_module()
class IdentitySTE(BaseSurrogateGrad):
    """Plain straight-through estimator (ReCU's weights): ``d(x) = 1``."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.ones_like(x)


@SURROGATE_GRADS.register_module()
class ApproxSignGrad(BaseSurrogateGrad):
    """Bi-Real's ApproxSign derivative (also ReActNet, ReCU activations).

    ``d(x) = 2 + 2x`` on ``[-1, 0)``, ``2 - 2x`` on ``[0, 1)``, 0 elsewhere,
    i.e. ``max(0, 2 - 2|x|)``.
    """

    def forward(self, x: Tensor) -> Tensor:
        return (2 - 2 * x.abs()).clamp_(min=0)


class _TKScheduled(ProgressDependent, BaseSurrogateGrad):
    """Shared ``t, k`` buffers and schedule of IR-Net's EDE and RBNN."""

    progress_buffers = ('t', 'k')

    def __init__(self, t_min: float = 1e-2, t_max: float = 1e1) -> None:
        super().__init__()
        self.t_min, self.t_max = t_min, t_max
        t, k = ede_t_k(0.0, t_min, t_max)
        self.register_buffer('t', torch.tensor(t))
        self.register_buffer('k', torch.tensor(k))

    def set_progress(self, progress: float) -> None:
        t, k = ede_t_k(self.check_progress(progress), self.t_min, self.t_max)
        self.t.fill_(t)
        self.k.fill_(k)

    def extra_repr(self) -> str:
        return f't_min={self.t_min}, t_max={self.t_max}'


@SURROGATE_GRADS.register_module()
class EDEGrad(_TKScheduled):
    """IR-Net's Error Decay Estimator.

    ``d(x) = k * t * (1 - tanh(t * x) ** 2)`` with
    ``t = T_min * 10 ** (p * log10(T_max / T_min))``, ``k = max(1 / t, 1)``
    (see :func:`~cmim_dense.models.quantizers.schedules.ede_t_k`).

    Args:
        t_min (float): ``T_min``. Defaults to 1e-2.
        t_max (float): ``T_max``. Defaults to 1e1.
    """

    def forward(self, x: Tensor) -> Tensor:
        t = self.t.to(x.dtype)
        return self.k.to(x.dtype) * t * (1 - torch.tanh(t * x)**2)


@SURROGATE_GRADS.register_module()
class RBNNGrad(_TKScheduled):
    """RBNN's training-aware approximation of sign.

    ``d(x) = k * max(0, sqrt(2) * t - t ** 2 * |x|)`` with the same ``t, k``
    schedule as IR-Net. For activations (``activation=True``) RBNN's released
    code uses its own constants, ``k = 1`` and ``t = max(t, 1)``, so the
    window is never wider than ``|x| <= sqrt(2)``; the paper uses the
    weights' ``t, k`` for both (``activation=False``).

    Args:
        t_min (float): ``T_min``. Defaults to 1e-2.
        t_max (float): ``T_max``. Defaults to 1e1.
        activation (bool): Use the activation constants. Defaults to False.
    """

    def __init__(self,
                 t_min: float = 1e-2,
                 t_max: float = 1e1,
                 activation: bool = False) -> None:
        super().__init__(t_min, t_max)
        self.activation = activation

    def forward(self, x: Tensor) -> Tensor:
        t = self.t.to(x.dtype)
        k = self.k.to(x.dtype)
        if self.activation:
            t, k = t.clamp(min=1), torch.ones_like(k)
        return k * (math.sqrt(2) * t - t * t * x.abs()).clamp_(min=0)

    def extra_repr(self) -> str:
        return super().extra_repr() + f', activation={self.activation}'


@SURROGATE_GRADS.register_module()
class XNORWeightGrad(BaseSurrogateGrad):
    """XNOR-Net's rescaled weight gradient (released ``util.lua``).

    For a weight ``W`` (``C_out x C_in x ...``) with ``n`` elements per
    output channel and ``alpha_o = mean |W_o|``:
    ``d(W) = n * (1 - 1 / C_in) * (alpha_o * 1[|W| < 1] + 1 / n)``.
    It multiplies the gradient of the binary weight ``alpha_o sign(W)``:
    ``alpha_o`` and ``1 / n`` come from differentiating the scaled sign,
    ``1 - 1 / C_in`` from the mean-centring over input channels and ``n`` is
    the code's rescaling. Weights only (it reads the shape of ``x``).
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() < 2:
            raise ValueError('XNORWeightGrad needs a weight (C_out, C_in, '
                             f'...), got shape {tuple(x.shape)}')
        n = x[0].numel()
        alpha = out_channel_mean_abs(x)
        window = (x.abs() < 1).to(x.dtype)
        return (alpha * window + 1.0 / n) * ((1 - 1 / x.shape[1]) * n)


@SURROGATE_GRADS.register_module()
class FourierGrad(ProgressDependent, BaseSurrogateGrad):
    """FDA's Fourier-series derivative of sign.

    ``d(x) = (4 * omega / pi) * sum_{i=0..n} cos((2i + 1) * omega * x)`` for
    ``|x| <= 1``, else 0. The sum is evaluated in closed form,
    ``sum_{i=0..n} cos((2i+1) y) = sin(2 (n+1) y) / (2 sin y)`` (limit
    ``n + 1`` at ``y = 0``), so the cost does not grow with ``n``. ``n`` grows
    from ``n_start`` to ``n_end`` over training.

    Args:
        omega (float): Base frequency. Defaults to 0.1.
        n_start (int): Terms at the start of training. Defaults to 9.
        n_end (int): Terms at the end of training. Defaults to 18.
    """

    progress_buffers = ('n', )

    def __init__(self,
                 omega: float = 0.1,
                 n_start: int = 9,
                 n_end: int = 18) -> None:
        super().__init__()
        if omega <= 0:
            raise ValueError(f'omega must be positive, got {omega}')
        self.omega, self.n_start, self.n_end = omega, n_start, n_end
        self.register_buffer(
            'n', torch.tensor(float(fda_terms(0.0, n_start, n_end))))

    def set_progress(self, progress: float) -> None:
        self.n.fill_(
            fda_terms(self.check_progress(progress), self.n_start, self.n_end))

    def forward(self, x: Tensor) -> Tensor:
        y = self.omega * x
        terms = self.n.to(x.dtype) + 1
        sin_y = torch.sin(y)
        small = sin_y.abs() < 1e-6
        series = torch.where(
            small, terms,
            torch.sin(2 * terms * y) / (2 * torch.where(small, 1, sin_y)))
        grad = (4 * self.omega / math.pi) * series
        return grad.masked_fill_(x.abs() > 1, 0)

    def extra_repr(self) -> str:
        return (f'omega={self.omega}, n_start={self.n_start}, '
                f'n_end={self.n_end}')
