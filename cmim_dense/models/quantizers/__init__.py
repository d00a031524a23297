"""Binarization operators: quantizers, surrogate gradients, output scales and
the named methods (binarizers) built from them."""
from .activation_quantizers import (ApproxSign, DoReFaActivation, EDESign,
                                    FourierSign, RBNNSign, ReCUSign, RSign,
                                    SignQuantizer, SteSign)
from .base import (BaseQuantizer, ProgressDependent, SurrogateSign, binarize,
                   sign)
from .binarizers import ROLES, available_binarizers, build_binarizer
from .noise_adaptation import NoiseAdaptation
from .output_scales import ChannelScale, GammaScale, XNORScale
from .surrogate_grads import (ApproxSignGrad, ClipSTE, EDEGrad, FourierGrad,
                              IdentitySTE, RBNNGrad, XNORWeightGrad)
from .weight_quantizers import (FDAWeight, LibraPBWeight, RBNNWeight,
                                ReCUWeight, ScaledSignWeight, SteSignWeight)

__all__ = [
    'sign', 'binarize', 'SurrogateSign', 'BaseQuantizer', 'ProgressDependent',
    'ClipSTE', 'IdentitySTE', 'ApproxSignGrad', 'EDEGrad', 'RBNNGrad',
    'FourierGrad', 'XNORWeightGrad', 'SignQuantizer', 'DoReFaActivation',
    'SteSign', 'ApproxSign', 'EDESign', 'RBNNSign', 'FourierSign', 'RSign',
    'ReCUSign', 'SteSignWeight', 'ScaledSignWeight', 'FDAWeight',
    'NoiseAdaptation', 'LibraPBWeight', 'RBNNWeight', 'ReCUWeight',
    'XNORScale', 'GammaScale', 'ChannelScale', 'ROLES', 'available_binarizers',
    'build_binarizer'
]
