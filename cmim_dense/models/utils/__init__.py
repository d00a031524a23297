"""Model utilities: FP -> binary conversion, activation recording, packed
1-bit export, the ``PretrainedBackbone`` initializer."""
from .activation_recorder import ActivationRecorder, OutputRecorder
from .binarize_modules import binarize_modules
from .binary_packing import (is_packed_checkpoint, load_packed_checkpoint,
                             pack_checkpoint)
from .pretrained_backbone_init import (PretrainedBackboneInit,
                                       drop_checkpoint_inits)

__all__ = [
    'ActivationRecorder', 'OutputRecorder', 'binarize_modules',
    'pack_checkpoint', 'load_packed_checkpoint', 'is_packed_checkpoint',
    'PretrainedBackboneInit', 'drop_checkpoint_inits'
]
