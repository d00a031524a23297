"""Hooks: they change state (schedules), never losses."""
from .binarizer_schedule_hook import BinarizerScheduleHook
from .cmim_memory_hook import CMIMMemoryHook

__all__ = ['BinarizerScheduleHook', 'CMIMMemoryHook']
from .atomic_checkpoint_hook import (AtomicCheckpointHook, AtomicLocalBackend,
                                     atomic_write)
from .rng_state_hook import RNGStateHook

__all__ += [
    'AtomicCheckpointHook', 'AtomicLocalBackend', 'atomic_write',
    'RNGStateHook'
]
from .backbone_init_hook import BackboneInitHook, backbone_init_sources

__all__ += ['BackboneInitHook', 'backbone_init_sources']
