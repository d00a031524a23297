"""Training-loop components."""
from .hooks import (EXIT_PREEMPTED, AtomicCheckpointHook, BackboneInitHook,
                    BinarizerScheduleHook, CheckpointSaveError,
                    CMIMMemoryHook, PreemptionHook, RNGStateHook,
                    TrainingPreempted, repair_last_checkpoint)
from .optimizers import (NonFiniteError, NonFiniteGuardAmpOptimWrapper,
                         NonFiniteGuardOptimWrapper)

__all__ = [
    'BinarizerScheduleHook', 'CMIMMemoryHook', 'BackboneInitHook',
    'AtomicCheckpointHook', 'CheckpointSaveError', 'EXIT_PREEMPTED',
    'PreemptionHook', 'RNGStateHook', 'TrainingPreempted',
    'repair_last_checkpoint', 'NonFiniteError',
    'NonFiniteGuardAmpOptimWrapper', 'NonFiniteGuardOptimWrapper'
]
