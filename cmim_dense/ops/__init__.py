"""Compiled operators: the bit-packed binary convolution engine."""
from .bitconv import (apply_act, available_isas, bitconv2d, engine_available,
                      engine_isa, get_num_threads, pack_weight, packed_words,
                      set_isa, set_num_threads, tap_sums, unpack_weight)

__all__ = [
    'apply_act', 'available_isas', 'bitconv2d', 'engine_available',
    'engine_isa', 'get_num_threads', 'pack_weight', 'packed_words', 'set_isa',
    'set_num_threads', 'tap_sums', 'unpack_weight'
]
