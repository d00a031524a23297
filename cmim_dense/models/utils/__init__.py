"""Model utilities: FP -> binary conversion, activation recording, packed
1-bit export, the ``PretrainedBackbone`` initializer."""
from .activation_recorder import (ActivationRecorder, OutputRecorder,
                                  resolve_layers, resolve_modules)
from .binarize_modules import DEFAULT_KEEP_FP, binarize_modules
from .binary_packing import (is_packed_checkpoint, load_packed_checkpoint,
                             pack_checkpoint, pack_state_dict,
                             unpack_state_dict)
from .pretrained_backbone_init import (PretrainedBackboneInit,
                                       check_checkpoint_file,
                                       drop_checkpoint_inits)

__all__ = [
    'ActivationRecorder', 'OutputRecorder', 'resolve_layers',
    'resolve_modules', 'binarize_modules',
    'DEFAULT_KEEP_FP', 'pack_state_dict', 'unpack_state_dict',
    'pack_checkpoint', 'load_packed_checkpoint', 'is_packed_checkpoint',
    'PretrainedBackboneInit', 'check_checkpoint_file', 'drop_checkpoint_inits'
]
