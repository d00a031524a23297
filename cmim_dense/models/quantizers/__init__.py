"""Binarization operators: quantizers, surrogate gradients, output scales and
the named methods (binarizers) built from them.

Importing the package imports every module in it, so every operator
(``QUANTIZERS``, ``SURROGATE_GRADS``) and method (``BINARIZERS``) is
registered, including a method added as a new module here: adding one touches
that module only (see ``docs/methods.md``). Configs name the operators by
type. The package exports what a user calls (the binarizer functions) and
what a new method builds on (the base classes, the state protocols and the
weight constraints); the concrete operators stay in their modules.
"""
import importlib
import pkgutil

from .activation_quantizers import SignQuantizer
from .base import (BaseQuantizer, ConstrainedWeight, InitFromWeight,
                   ProgressDependent, WeightStateDependent, binarize, sign)
from .binarizers import ROLES, available_binarizers, build_binarizer
from .output_scales import BaseOutputScale
from .surrogate_grads import BaseSurrogateGrad
from .weight_constraints import WeightClip, WeightConstraint



def _import_submodules() -> None:
    """Import (and so register) every module of the package."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f'{__name__}.{module.name}')


_import_submodules()

__all__ = [
    'ROLES', 'available_binarizers', 'build_binarizer', 'sign', 'binarize',
    'BaseQuantizer', 'SignQuantizer', 'BaseOutputScale', 'BaseSurrogateGrad',
    'ProgressDependent', 'WeightStateDependent', 'ConstrainedWeight',
    'InitFromWeight', 'WeightConstraint', 'WeightClip'
]
