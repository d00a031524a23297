"""Binary layers that plug into any mmcv/mmseg module by config."""
from .binary_conv import BinaryConv2d
from .binary_linear import BinaryLinear
from .rprelu import RPReLU

__all__ = ['BinaryConv2d', 'BinaryLinear', 'RPReLU']
