"""Training-loop components."""
from .hooks import BinarizerScheduleHook

__all__ = ['BinarizerScheduleHook']
