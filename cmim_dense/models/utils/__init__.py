"""Model utilities."""
from .binarize_modules import DEFAULT_KEEP_FP, binarize_modules

__all__ = ['binarize_modules', 'DEFAULT_KEEP_FP']
