"""Hooks: they change state (schedules), never losses."""
from .binarizer_schedule_hook import BinarizerScheduleHook

__all__ = ['BinarizerScheduleHook']
