"""Optimizer wrappers."""
from .non_finite_guard_optim_wrapper import (NonFiniteError,
                                             NonFiniteGuardAmpOptimWrapper,
                                             NonFiniteGuardOptimWrapper)

__all__ = [
    'NonFiniteError', 'NonFiniteGuardAmpOptimWrapper',
    'NonFiniteGuardOptimWrapper'
]
