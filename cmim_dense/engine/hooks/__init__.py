"""Hooks: they change state (schedules), never losses."""
from .atomic_checkpoint_hook import (AtomicCheckpointHook, CheckpointSaveError,
                                     repair_last_checkpoint)
from .backbone_init_hook import BackboneInitHook
from .binarizer_schedule_hook import BinarizerScheduleHook
from .cmim_memory_hook import CMIMMemoryHook
from .preemption_hook import EXIT_PREEMPTED, PreemptionHook, TrainingPreempted
from .rng_state_hook import RNGStateHook

__all__ = [
    'BinarizerScheduleHook', 'CMIMMemoryHook', 'AtomicCheckpointHook',
    'CheckpointSaveError', 'repair_last_checkpoint', 'EXIT_PREEMPTED',
    'PreemptionHook', 'TrainingPreempted', 'RNGStateHook', 'BackboneInitHook'
]
