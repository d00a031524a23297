"""Training-loop components."""
from .hooks import BinarizerScheduleHook

__all__ = ['BinarizerScheduleHook']
from .hooks import (AtomicCheckpointHook, AtomicLocalBackend, RNGStateHook,
                    atomic_write)
from .optimizers import (NonFiniteError, NonFiniteGuardAmpOptimWrapper,
                         NonFiniteGuardMixin, NonFiniteGuardOptimWrapper)

__all__ += [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'RNGStateHook',
    'atomic_write', 'NonFiniteError', 'NonFiniteGuardAmpOptimWrapper',
    'NonFiniteGuardMixin', 'NonFiniteGuardOptimWrapper'
]
