"""Hooks: they change state (schedules), never losses."""
from .binarizer_schedule_hook import BinarizerScheduleHook
from .cmim_memory_hook import CMIMMemoryHook

__all__ = ['BinarizerScheduleHook', 'CMIMMemoryHook']
from .atomic_checkpoint_hook import (AtomicCheckpointHook, AtomicLocalBackend,
                                     CheckpointSaveError, atomic_write,
                                     repair_last_checkpoint)
from .preemption_hook import EXIT_PREEMPTED, PreemptionHook, TrainingPreempted
from .rng_state_hook import RNGStateHook

__all__ += [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'CheckpointSaveError',
    'atomic_write', 'repair_last_checkpoint', 'EXIT_PREEMPTED',
    'PreemptionHook', 'TrainingPreempted', 'RNGStateHook'
]
from .backbone_init_hook import BackboneInitHook, backbone_init_sources

__all__ += ['BackboneInitHook', 'backbone_init_sources']
