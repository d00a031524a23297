"""cmim_dense: binary neural networks for dense prediction with CMIM.

Importing the package first applies the dependency-stack shims of
:mod:`cmim_dense.utils.compat` (before mmseg is imported), then registers every
module into mmseg's registries.
"""
from .utils.compat import apply_all as _apply_compat

_apply_compat()

from .version import __version__  # noqa: E402
from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)
from .models.quantizers import available_binarizers  # noqa: E402

__all__ = ['__version__', 'available_binarizers']
