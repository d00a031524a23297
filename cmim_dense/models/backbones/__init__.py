"""Binary backbones for dense prediction (registered in mmseg's MODELS).

Exported: the registered backbones (``IRNetResNet``, ``BiRealResNet``,
``ReActNet``), what a new backbone is built from (the base classes, the
blocks of the arch tables and the layer builders) and the checkpoint
reading users call. The rest (``ShortcutAvgPool``, the loaders' internals,
the converters of ``original_checkpoints``) is imported from its module.
"""
from .base_backbone import BaseBinaryBackbone
from .binary_basic_block import BinaryBasicBlock
from .binary_resnet import BinaryResNet
from .bireal_resnet import BiRealResNet
from .builders import build_activation, build_binary_conv
from .irnet_resnet import IRNetResNet
from .pretrained import CheckpointReport, load_pretrained, read_state_dict
from .reactnet import ReActNet
from .reactnet_block import ReActBlock
from .shortcut_pool import build_shortcut_pool

__all__ = [
    'IRNetResNet', 'BiRealResNet', 'ReActNet', 'BaseBinaryBackbone',
    'BinaryResNet', 'BinaryBasicBlock', 'ReActBlock', 'build_binary_conv',
    'build_activation', 'build_shortcut_pool', 'CheckpointReport',
    'load_pretrained', 'read_state_dict'
]
