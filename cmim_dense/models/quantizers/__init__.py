"""Binarization operators: quantizers, surrogate gradients, output scales and
the named methods (binarizers) built from them.

Importing the package registers every operator (``QUANTIZERS``,
``SURROGATE_GRADS``) and method (``BINARIZERS``); configs name them by type.
The package exports what a user calls (the binarizer functions) and what a
new method builds on (the base classes, the state protocols and the weight
constraints); the concrete operators stay in their modules.
"""
from . import (
    activation_quantizers,
    noise_adaptation,  # noqa: F401
    output_scales,
    surrogate_grads,
    weight_quantizers)
from .activation_quantizers import SignQuantizer
from .base import (BaseQuantizer, ConstrainedWeight, InitFromWeight,
                   ProgressDependent, WeightStateDependent, binarize, sign)
from .binarizers import ROLES, available_binarizers, build_binarizer
from .output_scales import BaseOutputScale
from .surrogate_grads import BaseSurrogateGrad
from .weight_constraints import WeightClip, WeightConstraint

__all__ = [
    'ROLES', 'available_binarizers', 'build_binarizer', 'sign', 'binarize',
    'BaseQuantizer', 'SignQuantizer', 'BaseOutputScale', 'BaseSurrogateGrad',
    'ProgressDependent', 'WeightStateDependent', 'ConstrainedWeight',
    'InitFromWeight', 'WeightConstraint', 'WeightClip'
]
