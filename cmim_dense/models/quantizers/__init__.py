"""Binarization operators: quantizers, surrogate gradients, output scales and
the named methods (binarizers) built from them."""
from .activation_quantizers import (ApproxSign, EDESign, FourierSign, RBNNSign,
                                    ReCUSign, RSign, SignQuantizer, SteSign)
from .base import (BaseQuantizer, ProgressDependent, SurrogateSign, binarize,
                   sign)
from .binarizers import ROLES, available_binarizers, build_binarizer
from .output_scales import ChannelScale, GammaScale, XNORScale
from .surrogate_grads import (ApproxSignGrad, ClipSTE, EDEGrad, FourierGrad,
                              IdentitySTE, RBNNGrad)
from .weight_quantizers import (LibraPBWeight, RBNNWeight, ReCUWeight,
                                ScaledSignWeight, SteSignWeight)

__all__ = [
    'sign', 'binarize', 'SurrogateSign', 'BaseQuantizer', 'ProgressDependent',
    'ClipSTE', 'IdentitySTE', 'ApproxSignGrad', 'EDEGrad', 'RBNNGrad',
    'FourierGrad', 'SignQuantizer', 'SteSign', 'ApproxSign', 'EDESign',
    'RBNNSign', 'FourierSign', 'RSign', 'ReCUSign', 'SteSignWeight',
    'ScaledSignWeight', 'LibraPBWeight', 'RBNNWeight', 'ReCUWeight',
    'XNORScale', 'GammaScale', 'ChannelScale', 'ROLES', 'available_binarizers',
    'build_binarizer'
]
