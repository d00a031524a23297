"""Weight quantizers: latent FP weight in, (scaled) ``{-1, +1}`` weight out.

Every quantizer here is a :class:`~.activation_quantizers.SignQuantizer`
(``sign`` forward, surrogate derivative backward) with a transform of the
latent weight before ``sign`` and/or a detached per-output-channel scale
after it. ``alpha_w`` is the mean absolute weight of an output channel.
"""
import math
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS
from .activation_quantizers import SignQuantizer
from .base import (ProgressDependent, binarize, out_channel_mean_abs, sign,
                   standardize_out_channels)
from .schedules import recu_tau


@QUANTIZERS.register_module()
class SteSignWeight(SignQuantizer):
    """BNN / XNOR++ weight: ``sign(W)``, clip STE.

    Backward: ``dL/dW = dL/dQ * 1[|W| <= 1]``.

    Args:
        latent_clip (float, optional): BNN clips the latent weights to
            ``[-latent_clip, latent_clip]`` after every optimizer step (done by
            :class:`~cmim_dense.engine.hooks.BinarizerScheduleHook`). None
            disables it. Defaults to None.
        grad (dict, optional): Surrogate derivative. Defaults to ``ClipSTE``.
    """

    def __init__(self,
                 latent_clip: Optional[float] = None,
                 grad: Optional[dict] = None) -> None:
        super().__init__(grad)
        if latent_clip is not None and latent_clip <= 0:
            raise ValueError(f'latent_clip must be positive or None, got '
                             f'{latent_clip}')
        self.latent_clip = latent_clip


@QUANTIZERS.register_module()
class ScaledSignWeight(SignQuantizer):
    """XNOR / DoReFa / Bi-Real / ReActNet / FDA weight: ``alpha_w sign(W)``.

    ``alpha_w = mean |W|`` per output channel, detached.
    Backward: ``dL/dW = dL/dQ * grad(W)``, times ``alpha_w`` when
    ``scale_grad`` (Bi-Real's magnitude-aware gradient).

    Args:
        scale_grad (bool): Scale the gradient by ``alpha_w``.
            Defaults to False.
        grad (dict, optional): Surrogate derivative. Defaults to ``ClipSTE``
            (FDA uses ``FourierGrad``).
    """

    def __init__(self,
                 scale_grad: bool = False,
                 grad: Optional[dict] = None) -> None:
        super().__init__(grad)
        self.scale_grad = scale_grad

    def forward(self, weight: Tensor) -> Tensor:
        return binarize(weight, self.grad, out_channel_mean_abs(weight),
                        self.scale_grad)


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
    """

    default_grad = 'EDEGrad'

    def forward(self, weight: Tensor) -> Tensor:
        w_std = standardize_out_channels(weight)
        scale = torch.pow(
            2, torch.round(torch.log2(out_channel_mean_abs(w_std.detach()))))
        return binarize(w_std, self.grad, scale, self.scale_grad)


def balanced_factors(n: int) -> Tuple[int, int]:
    """``(a, b)`` with ``a * b = n`` and ``a <= b`` as close as possible."""
    a = int(math.isqrt(n))
    while n % a:
        a -= 1
    return a, n // a


@QUANTIZERS.register_module()
class RBNNWeight(SignQuantizer):
    """RBNN's rotated weight binarization.

    The standardised weight of output channel ``i`` is reshaped to
    ``X_i`` (``a x b``, ``a * b`` = fan-in) and rotated,
    ``w2 = R1^T X_i R2``, with orthogonal ``R1`` (``a x a``), ``R2``
    (``b x b``) shared by all channels. The adjustable rotation
    ``w3 = w1 + |sin(theta_i)| * (w2 - w1)`` (``w1`` the standardised weight,
    ``theta_i`` learnable) is binarized: ``Q = sign(w3)``.
    Backward: RBNN's derivative ``k * max(0, sqrt(2) t - t ** 2 |w3|)`` at
    ``w3``, then through the rotation, ``theta`` and the standardisation.
    ``R1, R2`` are buffers updated by :meth:`update_rotation` (alternating
    SVD steps minimising ``sum_i ||sign(R1^T X_i R2) - R1^T X_i R2||^2``),
    called every few epochs by the schedule hook. A learnable per-channel
    output scale (``ChannelScale``) completes the method.

    Args:
        weight_shape (Sequence[int]): Shape of the layer's weight (filled in
            by the layer).
        factors (tuple[int, int], optional): ``(a, b)``; must multiply to the
            fan-in. Defaults to the most balanced factorisation.
        grad (dict, optional): Surrogate derivative. Defaults to ``RBNNGrad``.
    """

    default_grad = 'RBNNGrad'

    def __init__(self,
                 weight_shape: Sequence[int],
                 factors: Optional[Tuple[int, int]] = None,
                 grad: Optional[dict] = None) -> None:
        super().__init__(grad)
        out_channels = int(weight_shape[0])
        fan_in = int(math.prod(weight_shape[1:]))
        a, b = balanced_factors(fan_in) if factors is None else factors
        if a * b != fan_in:
            raise ValueError(
                f'RBNNWeight: factors {(a, b)} do not multiply to the fan-in '
                f'{fan_in} of a weight of shape {tuple(weight_shape)}')
        self.weight_shape = tuple(int(s) for s in weight_shape)
        self.factors = (a, b)
        self.register_buffer('rotation_left', torch.eye(a))
        self.register_buffer('rotation_right', torch.eye(b))
        self.theta = nn.Parameter(torch.rand(out_channels) * math.pi / 2)

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
        gate = torch.sin(self.theta).abs().to(w1.dtype).view(-1, 1, 1)
        w3 = w1 + gate * (w2 - w1)
        return binarize(w3.view_as(weight), self.grad)

    def rotation_error(self, weight: Tensor) -> Tensor:
        """``sum_i ||sign(R1^T X_i R2) - R1^T X_i R2||_F^2`` (no gradient)."""
        with torch.no_grad():
            rotated = self.rotate(self._as_matrices(weight))
            return (sign(rotated) - rotated).pow(2).sum()

    @torch.no_grad()
    def update_rotation(self, weight: Tensor, steps: int = 3) -> None:
        """Alternating updates of ``B``, ``R1`` and ``R2`` (RBNN, Sec. 3.2).

        ``B = sign(R1^T X R2)``; ``R1 = U V^T`` from the SVD of
        ``sum_i X_i R2 B_i^T``; ``R2 = U V^T`` from the SVD of
        ``sum_i X_i^T R1 B_i``. Each step cannot increase
        :meth:`rotation_error`.

        Args:
            weight (Tensor): The layer's latent weight.
            steps (int): Number of alternating steps. Defaults to 3.
        """
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
        return f'weight_shape={self.weight_shape}, factors={self.factors}'


@QUANTIZERS.register_module()
class ReCUWeight(ProgressDependent, SignQuantizer):
    """ReCU's rectified clamp unit on standardised weights.

    ``W~ = (W - mean_o W) / std_o(W)`` per output channel, clamped to
    ``[-Q_tau, Q_tau]`` with ``Q_tau = -mean(|W~|) * ln(2 - 2 tau)`` (over the
    whole tensor, detached), then ``Q = sign(clamp(W~))``. Backward: identity
    STE through ``sign``, zero outside the clamp window, then through the
    standardisation. ``tau`` grows exponentially from ``tau_min`` to
    ``tau_max`` (:func:`~.schedules.recu_tau`). A learnable per-channel output
    scale (``ChannelScale``) completes the method.

    Args:
        tau_min (float): ``tau`` at the start. Defaults to 0.85.
        tau_max (float): ``tau`` at the end. Defaults to 0.99.
        grad (dict, optional): Surrogate derivative. Defaults to
            ``IdentitySTE``.
    """

    default_grad = 'IdentitySTE'
    progress_buffers = ('tau', )

    def __init__(self,
                 tau_min: float = 0.85,
                 tau_max: float = 0.99,
                 grad: Optional[dict] = None) -> None:
        super().__init__(grad)
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

    def forward(self, weight: Tensor) -> Tensor:
        w_std = standardize_out_channels(weight)
        bound = self.clamp_bound(w_std)
        return binarize(torch.clamp(w_std, -bound, bound), self.grad)

    def extra_repr(self) -> str:
        return f'tau_min={self.tau_min}, tau_max={self.tau_max}'


__all__ = [
    'SteSignWeight', 'ScaledSignWeight', 'LibraPBWeight', 'RBNNWeight',
    'ReCUWeight', 'balanced_factors'
]
