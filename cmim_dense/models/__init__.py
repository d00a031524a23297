"""Models: quantizers, binary layers and (in later modules) backbones,
heads, losses and segmentors. Importing registers them."""
from . import quantizers  # noqa: F401
from .layers import BinaryConv2d, BinaryLinear, RPReLU
from .quantizers import available_binarizers
from .utils import binarize_modules

__all__ = [
    'BinaryConv2d', 'BinaryLinear', 'RPReLU', 'available_binarizers',
    'binarize_modules'
]
