"""cmim_dense: binary neural networks for dense prediction with CMIM.

Importing the package first applies the compatibility patches of
:mod:`cmim_dense.utils.compat` that the installed stack needs (each is
detected; before mmseg is imported; listed with their upstream reports in
``docs/compatibility.md``), then registers every module into the registries.
"""
from .utils.compat import apply_all as _apply_compat

_apply_compat()

from .version import __version__  # noqa: E402
from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)
from .models.quantizers import available_binarizers  # noqa: E402

__all__ = ['__version__', 'available_binarizers']
