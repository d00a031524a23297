"""Training-loop components."""
from .hooks import BinarizerScheduleHook

__all__ = ['BinarizerScheduleHook']
from .hooks import (EXIT_PREEMPTED, AtomicCheckpointHook, AtomicLocalBackend,
                    CheckpointSaveError, PreemptionHook, RNGStateHook,
                    TrainingPreempted, atomic_write, repair_last_checkpoint)
from .optimizers import (NonFiniteError, NonFiniteGuardAmpOptimWrapper,
                         NonFiniteGuardMixin, NonFiniteGuardOptimWrapper)

__all__ += [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CheckpointSaveError',
    'EXIT_PREEMPTED', 'PreemptionHook', 'RNGStateHook', 'TrainingPreempted',
    'atomic_write', 'repair_last_checkpoint', 'NonFiniteError',
    'NonFiniteGuardAmpOptimWrapper', 'NonFiniteGuardMixin',
    'NonFiniteGuardOptimWrapper'
]
