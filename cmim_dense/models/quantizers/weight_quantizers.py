"""Weight quantizers: latent FP weight in, (scaled) ``{-1, +1}`` weight out.

Every quantizer here is a :class:`~.activation_quantizers.SignQuantizer`
(``sign`` forward, surrogate derivative backward) with a transform of the
latent weight before ``sign`` and/or a detached per-output-channel scale
after it. ``alpha_w`` is the mean absolute weight of an output channel.
Per-method behaviour and its sources: ``docs/methods.md``.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS
from .activation_quantizers import SignQuantizer
from .base import (ConstrainedWeight, ProgressDependent, WeightStateDependent,
                   binarize, out_channel_mean_abs, sign,
                   standardize_out_channels, tensor_mean_abs)
from .schedules import recu_tau
from .weight_constraints import WeightConstraint, latent_weight_constraint

SCALE_GRANULARITIES = ('channel', 'tensor')


def check_latent_clip(latent_clip: Optional[float]) -> Optional[float]:
    """Validate a latent-weight clip bound (positive or None)."""
    if latent_clip is not None and latent_clip <= 0:
        raise ValueError(f'latent_clip must be positive or None, got '
                         f'{latent_clip}')
    return latent_clip


class LatentWeightConstrained(ConstrainedWeight):
    """``weight_constraint`` from the ``latent_clip`` / ``latent_center``
    hyper-parameters (see
    :func:`~.weight_constraints.latent_weight_constraint`)."""

    latent_clip: Optional[float] = None
    latent_center: bool = False

    @property
    def weight_constraint(self) -> Optional[WeightConstraint]:
        return latent_weight_constraint(self.latent_clip, self.latent_center)


@QUANTIZERS.register_module()
class SteSignWeight(LatentWeightConstrained, SignQuantizer):
    """BNN / XNOR++ weight: ``sign(W)``, clip STE.

    Backward: ``dL/dW = dL/dQ * 1[|W| <= 1]``.

    Args:
        latent_clip (float, optional): BNN clips the latent weights to
            ``[-latent_clip, latent_clip]`` after every optimizer step (its
            ``weight_constraint``, a
            :class:`~.weight_constraints.WeightClip`, applied by
            :class:`~cmim_dense.engine.hooks.BinarizerScheduleHook`). None
            disables it. Defaults to None.
        grad (dict, optional): Surrogate derivative. Defaults to ``ClipSTE``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    def __init__(self,
                 latent_clip: Optional[float] = None,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        self.latent_clip = check_latent_clip(latent_clip)


@QUANTIZERS.register_module()
class ScaledSignWeight(LatentWeightConstrained, SignQuantizer):
    """XNOR / DoReFa / Bi-Real / ReActNet / FDA weight: ``alpha_w sign(W)``.

    ``alpha_w = mean |W|`` per output channel (``granularity='channel'``) or
    over the whole tensor (``'tensor'``, DoReFa's ``E``), detached.
    Backward: ``dL/dW = dL/dQ * grad(W)``, times ``alpha_w`` when
    ``scale_grad`` (Bi-Real's magnitude-aware gradient of the paper; FDA's
    code, whose scaled sign is differentiated by autograd).

    XNOR-Net's released training also mean-centres the latent weights over
    the input channels and clamps them to ``[-1, 1]`` before every forward
    pass (``latent_center=True, latent_clip=1``): the quantizer's
    ``weight_constraint``, applied to the layer's weight by
    :class:`~cmim_dense.engine.hooks.BinarizerScheduleHook` before training
    and after every optimizer step.

    Args:
        scale_grad (bool): Scale the gradient by ``alpha_w``.
            Defaults to False.
        granularity (str): ``'channel'`` or ``'tensor'``.
            Defaults to ``'channel'``.
        latent_clip (float, optional): Clamp bound of the latent weights.
            Defaults to None (no clamp).
        latent_center (bool): Mean-centre the latent weights over the input
            channels (before the clamp). Defaults to False.
        grad (dict, optional): Surrogate derivative. Defaults to ``ClipSTE``
            (FDA uses ``FourierGrad``, DoReFa ``IdentitySTE``).
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    def __init__(self,
                 scale_grad: bool = False,
                 granularity: str = 'channel',
                 latent_clip: Optional[float] = None,
                 latent_center: bool = False,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        if granularity not in SCALE_GRANULARITIES:
            raise ValueError(f'granularity must be one of '
                             f'{SCALE_GRANULARITIES}, got {granularity!r}')
        self.scale_grad = scale_grad
        self.granularity = granularity
        self.latent_clip = check_latent_clip(latent_clip)
        self.latent_center = latent_center

    def weight_scale(self, weight: Tensor) -> Tensor:
        """``alpha_w`` (per output channel) or ``E`` (per tensor)."""
        if self.granularity == 'tensor':
            return tensor_mean_abs(weight)
        return out_channel_mean_abs(weight)

    def forward(self, weight: Tensor) -> Tensor:
        return binarize(weight, self.grad, self.weight_scale(weight),
                        self.scale_grad, self.sign_zero)


@QUANTIZERS.register_module()
class FDAWeight(ScaledSignWeight):
    """FDA's weight: ``alpha_w (sign(W) + alpha * e(W))``.

    ``e`` is the noise-adaptation residual
    (:class:`~.noise_adaptation.NoiseAdaptation`, training only, applied
    when ``noise`` is given). As in the released code the whole binary
    weight is multiplied by the detached ``alpha_w`` under autograd, so the
    weight gradient includes ``alpha_w`` (``scale_grad=True``).
    Backward: ``dL/dW = dL/dQ * alpha_w * (fourier(W) + alpha * de/dW)``.

    Args:
        weight_shape (Sequence[int]): The layer's weight shape (filled in).
        noise (dict, optional): Noise-adaptation config (``features`` and
            ``mode`` are filled in). Defaults to None.
        scale_grad (bool): Defaults to True.
        grad (dict, optional): Defaults to ``FourierGrad``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = 'FourierGrad'

    def __init__(self,
                 weight_shape: Sequence[int],
                 noise: Optional[dict] = None,
                 scale_grad: bool = True,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(scale_grad, grad=grad, sign_zero=sign_zero)
        self.noise = None
        if noise is not None:
            self.noise = QUANTIZERS.build(
                dict(
                    noise,
                    features=int(math.prod(weight_shape[1:])),
                    mode='weight'))

    def forward(self, weight: Tensor) -> Tensor:
        out = super().forward(weight)
        if self.noise is None:
            return out
        return out + self.weight_scale(weight).detach() * self.noise(weight)


@QUANTIZERS.register_module()
class LibraPBWeight(ScaledSignWeight):
    """IR-Net's Libra Parameter Binarization.

    ``W_std = (W - mean_o W) / std_o(W - mean_o W)`` per output channel,
    ``Q = sign(W_std) * 2 ** round(log2(mean |W_std|))`` (scale per output
    channel, detached). Backward: EDE derivative at ``W_std``, then through
    the standardisation by autograd; times the power-of-two scale when
    ``scale_grad`` (as IR-Net's released code, which multiplies after the
    binarization).

    Args:
        scale_grad (bool): Include the scale in the gradient.
            Defaults to False.
        grad (dict, optional): Surrogate derivative. Defaults to ``EDEGrad``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = 'EDEGrad'

    def __init__(self,
                 scale_grad: bool = False,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(scale_grad, grad=grad, sign_zero=sign_zero)

    def forward(self, weight: Tensor) -> Tensor:
        w_std = standardize_out_channels(weight)
        scale = torch.pow(
            2, torch.round(torch.log2(out_channel_mean_abs(w_std.detach()))))
        return binarize(w_std, self.grad, scale, self.scale_grad,
                        self.sign_zero)


def balanced_factors(n: int) -> Tuple[int, int]:
    """``(a, b)`` with ``a * b = n`` and ``a <= b`` as close as possible."""
    a = int(math.isqrt(n))
    while n % a:
        a -= 1
    return a, n // a


def random_orthogonal(n: int) -> Tensor:
    """A Haar-random ``n x n`` orthogonal matrix (from ``torch``'s RNG).

    QR of a standard normal matrix with the signs of ``R``'s diagonal moved
    into ``Q`` (the distribution of ``scipy.stats.ortho_group``).
    """
    q, r = torch.linalg.qr(torch.randn(n, n, dtype=torch.float64))
    d = torch.sign(torch.diagonal(r))
    d[d == 0] = 1
    return (q * d).float()


@QUANTIZERS.register_module()
class RBNNWeight(WeightStateDependent, SignQuantizer):
    """RBNN's rotated weight binarization.

    The standardised weight of output channel ``i`` is reshaped to
    ``X_i`` (``a x b``, ``a * b`` = fan-in) and rotated,
    ``w2 = R1^T X_i R2``, with orthogonal ``R1`` (``a x a``), ``R2``
    (``b x b``) shared by all channels. The adjustable rotation
    ``w3 = w1 + |sin(theta_i)| * (w2 - w1)`` (``w1`` the standardised weight,
    ``theta_i`` learnable) is binarized: ``Q = sign(w3)``.
    In RBNN's released code the rotated weight enters the mix detached
    (``detach_rotation=True``): the latent weight receives only the
    ``1 - |sin(theta)|`` share of the gradient; the paper's form
    back-propagates through the rotation too (``detach_rotation=False``).
    Backward: RBNN's derivative ``k * max(0, sqrt(2) t - t ** 2 |w3|)`` at
    ``w3``, then through the mix, ``theta`` and the standardisation.
    ``R1, R2`` are buffers updated by :meth:`update_rotation` (alternating
    SVD steps minimising ``sum_i ||sign(R1^T X_i R2) - R1^T X_i R2||^2``):
    the quantizer's :meth:`update_state`, which the schedule hook calls
    before the first forward pass of every epoch, as the released code.
    Initialisation as the code: random orthogonal ``R1, R2``
    (``init_rotation='random'``; ``'identity'`` is available) and
    ``theta = pi / 2``. A learnable
    per-channel output scale (``ChannelScale``, initialised to
    ``mean |W|`` per channel) completes the method.

    Args:
        weight_shape (Sequence[int]): Shape of the layer's weight (filled in
            by the layer).
        factors (tuple[int, int], optional): ``(a, b)``; must multiply to the
            fan-in. Defaults to the most balanced factorisation.
        detach_rotation (bool): Detach ``R1^T X R2`` in the mix.
            Defaults to True.
        init_rotation (str): ``'random'`` or ``'identity'``.
            Defaults to ``'random'``.
        theta_init (float): Initial ``theta``. Defaults to ``pi / 2``.
        rotation_steps (int): Alternating steps of each rotation update.
            Defaults to 3 (the code).
        grad (dict, optional): Surrogate derivative. Defaults to ``RBNNGrad``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = 'RBNNGrad'

    def __init__(self,
                 weight_shape: Sequence[int],
                 factors: Optional[Tuple[int, int]] = None,
                 detach_rotation: bool = True,
                 init_rotation: str = 'random',
                 theta_init: float = math.pi / 2,
                 rotation_steps: int = 3,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        if isinstance(rotation_steps, bool) or not isinstance(
                rotation_steps, int) or rotation_steps < 1:
            raise ValueError('RBNNWeight: rotation_steps must be a positive '
                             f'integer, got {rotation_steps!r}')
        out_channels = int(weight_shape[0])
        fan_in = int(math.prod(weight_shape[1:]))
        a, b = balanced_factors(fan_in) if factors is None else factors
        if a * b != fan_in:
            raise ValueError(
                f'RBNNWeight: factors {(a, b)} do not multiply to the fan-in '
                f'{fan_in} of a weight of shape {tuple(weight_shape)}')
        if init_rotation not in ('random', 'identity'):
            raise ValueError("RBNNWeight: init_rotation must be 'random' or "
                             f"'identity', got {init_rotation!r}")
        self.weight_shape = tuple(int(s) for s in weight_shape)
        self.factors = (a, b)
        self.detach_rotation = detach_rotation
        self.rotation_steps = rotation_steps
        make = random_orthogonal if init_rotation == 'random' else torch.eye
        self.register_buffer('rotation_left', make(a))
        self.register_buffer('rotation_right', make(b))
        self.theta = nn.Parameter(torch.full((out_channels, ), theta_init))

    def _as_matrices(self, weight: Tensor) -> Tensor:
        if tuple(weight.shape) != self.weight_shape:
            raise ValueError(f'RBNNWeight was built for a weight of shape '
                             f'{self.weight_shape}, got {tuple(weight.shape)}')
        return standardize_out_channels(weight).view(-1, *self.factors)

    def rotate(self, matrices: Tensor) -> Tensor:
        """``R1^T X_i R2`` for every channel's matrix ``X_i``."""
        left = self.rotation_left.to(matrices.dtype)
        right = self.rotation_right.to(matrices.dtype)
        return left.t() @ matrices @ right

    def forward(self, weight: Tensor) -> Tensor:
        w1 = self._as_matrices(weight)
        w2 = self.rotate(w1)
        if self.detach_rotation:
            w2 = w2.detach()
        gate = torch.sin(self.theta).abs().to(w1.dtype).view(-1, 1, 1)
        w3 = w1 + gate * (w2 - w1)
        return binarize(w3.view_as(weight), self.grad, zero=self.sign_zero)

    def rotation_error(self, weight: Tensor) -> Tensor:
        """``sum_i ||sign(R1^T X_i R2) - R1^T X_i R2||_F^2`` (no gradient)."""
        with torch.no_grad():
            rotated = self.rotate(self._as_matrices(weight))
            return (sign(rotated) - rotated).pow(2).sum()

    def update_state(self, weight: Tensor) -> None:
        """RBNN's per-epoch state update: :meth:`update_rotation` with
        ``rotation_steps`` steps."""
        self.update_rotation(weight)

    @torch.no_grad()
    def update_rotation(self,
                        weight: Tensor,
                        steps: Optional[int] = None) -> None:
        """Alternating updates of ``B``, ``R1`` and ``R2`` (RBNN, Sec. 3.2).

        ``B = sign(R1^T X R2)``; ``R1 = U V^T`` from the SVD of
        ``sum_i X_i R2 B_i^T``; ``R2 = U V^T`` from the SVD of
        ``sum_i X_i^T R1 B_i``. Each step cannot increase
        :meth:`rotation_error`.

        Args:
            weight (Tensor): The layer's latent weight.
            steps (int, optional): Number of alternating steps. Defaults to
                ``rotation_steps`` (3).
        """
        steps = self.rotation_steps if steps is None else steps
        x = self._as_matrices(weight).double()
        left = self.rotation_left.double()
        right = self.rotation_right.double()
        for _ in range(steps):
            b = sign(left.t() @ x @ right)
            u, _, vh = torch.linalg.svd((x @ right @ b.transpose(1, 2)).sum(0))
            left = u @ vh
            u, _, vh = torch.linalg.svd((x.transpose(1, 2) @ left @ b).sum(0))
            right = u @ vh
        self.rotation_left.copy_(left)
        self.rotation_right.copy_(right)

    def extra_repr(self) -> str:
        return (f'weight_shape={self.weight_shape}, factors={self.factors}, '
                f'detach_rotation={self.detach_rotation}')


@QUANTIZERS.register_module()
class ReCUWeight(ProgressDependent, SignQuantizer):
    """ReCU's rectified clamp unit on standardised weights.

    ``W~ = gain * (W - mean_o W) / sqrt(var_o(W) + eps)`` per output channel
    (unbiased variance; ReCU's released code divides by
    ``sqrt(var + 1e-5) / (2 sqrt 2)``, i.e. ``gain = 2 sqrt 2``; the paper's
    plain standardisation is ``gain=1``; the signs are the same, the
    gradient reaching ``W`` is ``gain`` times larger), clamped to
    ``[-Q_tau, Q_tau]`` with ``Q_tau = -mean(|W~|) * ln(2 - 2 tau)`` (over the
    whole tensor, detached), then ``Q = sign(clamp(W~))``. Backward: identity
    STE through ``sign``, zero outside the clamp window, then through the
    standardisation. ``tau`` grows exponentially from ``tau_min`` to
    ``tau_max`` (:func:`~.schedules.recu_tau`). A learnable per-channel output
    scale (``ChannelScale``) completes the method.

    Args:
        tau_min (float): ``tau`` at the start. Defaults to 0.85.
        tau_max (float): ``tau`` at the end. Defaults to 0.99.
        gain (float): Factor of the standardised weight.
            Defaults to ``2 sqrt 2`` (the code).
        eps (float): Added to the variance. Defaults to 1e-5 (the code).
        grad (dict, optional): Surrogate derivative. Defaults to
            ``IdentitySTE``.
        sign_zero (float): ``sign(0)``. Defaults to 1.
    """

    default_grad = 'IdentitySTE'
    progress_buffers = ('tau', )

    def __init__(self,
                 tau_min: float = 0.85,
                 tau_max: float = 0.99,
                 gain: float = 2 * math.sqrt(2),
                 eps: float = 1e-5,
                 grad: Optional[dict] = None,
                 sign_zero: float = 1.0) -> None:
        super().__init__(grad, sign_zero)
        if gain <= 0:
            raise ValueError(f'ReCUWeight: gain must be positive, got {gain}')
        self.gain, self.eps = gain, eps
        self.tau_min, self.tau_max = tau_min, tau_max
        self.register_buffer('tau',
                             torch.tensor(recu_tau(0.0, tau_min, tau_max)))

    def set_progress(self, progress: float) -> None:
        self.tau.fill_(
            recu_tau(
                self.check_progress(progress), self.tau_min, self.tau_max))

    def clamp_bound(self, w_std: Tensor) -> Tensor:
        """``Q_tau`` for a standardised weight (detached scalar tensor)."""
        tau = self.tau.to(w_std.dtype)
        return (-w_std.detach().abs().mean() * torch.log(2 - 2 * tau))

    def standardize(self, weight: Tensor) -> Tensor:
        """``gain * (W - mean_o W) / sqrt(var_o W + eps)`` (not detached)."""
        dims = tuple(range(1, weight.dim()))
        centered = weight - weight.mean(dims, keepdim=True)
        return self.gain * centered / torch.sqrt(
            centered.var(dims, keepdim=True) + self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        w_std = self.standardize(weight)
        bound = self.clamp_bound(w_std)
        return binarize(
            torch.clamp(w_std, -bound, bound), self.grad, zero=self.sign_zero)

    def extra_repr(self) -> str:
        return (f'tau_min={self.tau_min}, tau_max={self.tau_max}, '
                f'gain={self.gain:.4g}')


__all__ = [
    'LatentWeightConstrained', 'SteSignWeight', 'ScaledSignWeight',
    'FDAWeight', 'LibraPBWeight', 'RBNNWeight', 'ReCUWeight',
    'balanced_factors', 'random_orthogonal'
]
