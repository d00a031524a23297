"""Progress schedules of the binarizers (pure functions of progress in [0, 1]).

``progress`` is ``epoch / max_epochs`` or ``iter / max_iters``, as computed by
:class:`~cmim_dense.engine.hooks.BinarizerScheduleHook`.
"""
import math
from typing import Tuple


def ede_t_k(progress: float,
            t_min: float = 1e-2,
            t_max: float = 1e1) -> Tuple[float, float]:
    """IR-Net / RBNN schedule of the surrogate's sharpness ``t``, gain ``k``.

    ``t = T_min * 10 ** (p * log10(T_max / T_min))``, ``k = max(1 / t, 1)``.

    Args:
        progress (float): Training progress ``p`` in ``[0, 1]``.
        t_min (float): ``T_min``. Defaults to 1e-2 (1e-3 for CIFAR ResNet-20).
        t_max (float): ``T_max``. Defaults to 1e1.

    Returns:
        tuple[float, float]: ``(t, k)``.
    """
    if not 0 < t_min <= t_max:
        raise ValueError(f'need 0 < t_min <= t_max, got t_min={t_min}, '
                         f't_max={t_max}')
    t = t_min * 10**(progress * math.log10(t_max / t_min))
    return t, max(1.0 / t, 1.0)


def recu_tau(progress: float,
             tau_min: float = 0.85,
             tau_max: float = 0.99) -> float:
    """ReCU's exponential schedule of ``tau``.

    ``tau = A * e ** p + B`` with ``A = (tau_max - tau_min) / (e - 1)`` and
    ``B = tau_min - A``, so ``tau(0) = tau_min`` and ``tau(1) = tau_max``.
    """
    if not 0.5 <= tau_min <= tau_max < 1:
        raise ValueError('need 0.5 <= tau_min <= tau_max < 1, got '
                         f'tau_min={tau_min}, tau_max={tau_max}')
    a = (tau_max - tau_min) / (math.e - 1)
    return a * math.exp(progress) + tau_min - a


def fda_terms(progress: float, n_start: int = 9, n_end: int = 18) -> int:
    """FDA's number of Fourier terms: grows linearly from n_start to n_end.

    ``n = floor(n_start + p * (n_end - n_start))``.
    """
    if not 0 <= n_start <= n_end:
        raise ValueError(f'need 0 <= n_start <= n_end, got n_start='
                         f'{n_start}, n_end={n_end}')
    return int(math.floor(n_start + progress * (n_end - n_start) + 1e-9))


def fda_noise_alpha(progress: float, alpha_max: float = 0.1) -> float:
    """FDA's weight of the noise-adaptation term: cosine decay to 0.

    ``alpha = (alpha_max / 2) * (1 + cos(pi * p))``: ``alpha_max`` at the
    start (0.1 in FDA's code, i.e. ``0.05 * (1 + cos(pi p))``), 0 at the end.
    """
    if alpha_max < 0:
        raise ValueError(f'alpha_max must be >= 0, got {alpha_max}')
    return 0.5 * alpha_max * (1 + math.cos(math.pi * progress))
