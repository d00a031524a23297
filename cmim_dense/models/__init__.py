"""Models: quantizers, binary layers, backbones, heads, losses and
segmentors. Importing registers them."""
from . import (algorithms, backbones, data_preprocessor,  # noqa: F401
               heads, losses, quantizers, segmentors)
from .algorithms import CMIM
from .backbones import BiRealResNet, IRNetResNet, ReActNet
from .layers import BinaryConv2d, BinaryLinear, RPReLU
from .quantizers import available_binarizers
from .utils import binarize_modules

__all__ = [
    'BinaryConv2d', 'BinaryLinear', 'RPReLU', 'available_binarizers',
    'binarize_modules', 'IRNetResNet', 'BiRealResNet', 'ReActNet', 'CMIM'
]
