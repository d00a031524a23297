"""Optimizer wrappers."""
from .non_finite_guard_optim_wrapper import (NonFiniteError,
                                             NonFiniteGuardAmpOptimWrapper,
                                             NonFiniteGuardMixin,
                                             NonFiniteGuardOptimWrapper)

__all__ = [
    'NonFiniteError', 'NonFiniteGuardAmpOptimWrapper', 'NonFiniteGuardMixin',
    'NonFiniteGuardOptimWrapper'
]
