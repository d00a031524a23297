"""Compiled operators: the bit-packed binary convolution engine."""
from .bitconv import (available_isas, bitconv2d, engine_available, engine_isa,
                      get_num_threads, pack_weight, set_isa, set_num_threads,
                      unpack_weight)

__all__ = [
    'available_isas', 'bitconv2d', 'engine_available', 'engine_isa',
    'get_num_threads', 'pack_weight', 'set_isa', 'set_num_threads',
    'unpack_weight'
]
