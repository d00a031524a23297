"""FDA's noise-adaptation module.

FDA (Xu et al. 2021) approximates ``sign`` by a truncated Fourier series in
the backward pass; the noise-adaptation module learns the residual between
``sign`` and that approximation. In training the binarized value becomes

``b = sign(x) + alpha * e(x)``, ``e(x) = fc2(relu(fc1(x))) + 0.1 sin(x)``

where ``fc1`` (``d -> d / r``) and ``fc2`` (``d / r -> d``) are bias-free
linear maps and ``alpha = 0.05 (1 + cos(pi p))`` decays from 0.1 to 0 over
training (:func:`~.schedules.fda_noise_alpha`). For a weight, ``d`` is the
fan-in and the map acts on each output channel's flattened weight; for an
activation, ``d`` is the number of channels and the map acts on the channel
vector at every position. See ``docs/methods.md`` for how this follows the
PyTorch re-implementation (and where it deliberately does not: the term is
applied in training only, so evaluation is exactly binary).
"""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS
from .base import BaseQuantizer, ProgressDependent
from .schedules import fda_noise_alpha

NOISE_MODES = ('weight', 'activation')


@QUANTIZERS.register_module()
class NoiseAdaptation(ProgressDependent, BaseQuantizer):
    """``alpha * (fc2(relu(fc1(x))) + 0.1 sin(x))`` in training, else 0.

    Args:
        features (int): ``d``: the fan-in (``mode='weight'``) or the number
            of channels (``mode='activation'``).
        mode (str): ``'weight'`` or ``'activation'``.
        reduction (int): ``r``; the hidden width is ``d // r``, or
            ``d // 4`` where that is 0 (what the re-implementation falls back
            to), at least 1. Defaults to 64.
        channel_dim (int): Channel axis of an activation. Defaults to 1.
        alpha_max (float): ``alpha`` at the start of training.
            Defaults to 0.1.
    """

    progress_buffers = ('alpha', )

    def __init__(self,
                 features: int,
                 mode: str,
                 reduction: int = 64,
                 channel_dim: int = 1,
                 alpha_max: float = 0.1) -> None:
        super().__init__()
        if mode not in NOISE_MODES:
            raise ValueError(f'NoiseAdaptation mode must be one of '
                             f'{NOISE_MODES}, got {mode!r}')
        if features <= 0 or reduction <= 0:
            raise ValueError('NoiseAdaptation needs positive features and '
                             f'reduction, got {features}, {reduction}')
        hidden = features // reduction or max(features // 4, 1)
        self.mode, self.channel_dim = mode, channel_dim
        self.features, self.alpha_max = features, alpha_max
        self.fc1 = nn.Linear(features, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, features, bias=False)
        self.register_buffer('alpha',
                             torch.tensor(fda_noise_alpha(0.0, alpha_max)))

    def set_progress(self, progress: float) -> None:
        self.alpha.fill_(
            fda_noise_alpha(self.check_progress(progress), self.alpha_max))

    def residual(self, x: Tensor) -> Tensor:
        """``e(x) = fc2(relu(fc1(x))) + 0.1 sin(x)`` (without ``alpha``)."""
        if self.mode == 'weight':
            flat = x.flatten(1)
            if flat.shape[1] != self.features:
                raise ValueError(f'NoiseAdaptation expects a fan-in of '
                                 f'{self.features}, got weight of shape '
                                 f'{tuple(x.shape)}')
            mlp = self.fc2(F.relu(self.fc1(flat))).view_as(x)
        else:
            if x.shape[self.channel_dim] != self.features:
                raise ValueError(f'NoiseAdaptation expects {self.features} '
                                 f'channels on dim {self.channel_dim}, got '
                                 f'input of shape {tuple(x.shape)}')
            moved = x.movedim(self.channel_dim, -1)
            mlp = self.fc2(F.relu(self.fc1(moved))).movedim(
                -1, self.channel_dim)
        return mlp + 0.1 * torch.sin(x)

    def forward(self, x: Tensor) -> Tensor:
        if not self.training:
            return torch.zeros_like(x)
        return self.alpha.to(x.dtype) * self.residual(x)

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, features={self.features}, '
                f'alpha_max={self.alpha_max}')
