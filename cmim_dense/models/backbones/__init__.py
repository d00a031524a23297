"""Binary backbones for dense prediction (registered in mmseg's MODELS)."""
from .base_backbone import BaseBinaryBackbone
from .binary_basic_block import BinaryBasicBlock
from .binary_resnet import BinaryResNet
from .bireal_resnet import BiRealResNet
from .builders import build_activation, build_binary_conv
from .irnet_resnet import IRNetResNet
from .pretrained import (CheckpointReport, load_pretrained,
                         load_state_dict_report, read_state_dict)
from .reactnet import ReActNet
from .reactnet_block import ReActBlock
from .shortcut_pool import ShortcutAvgPool, build_shortcut_pool

__all__ = [
    'BaseBinaryBackbone', 'BinaryBasicBlock', 'BinaryResNet', 'IRNetResNet',
    'BiRealResNet', 'ReActBlock', 'ReActNet', 'ShortcutAvgPool',
    'build_shortcut_pool', 'build_binary_conv', 'build_activation',
    'CheckpointReport', 'load_pretrained', 'load_state_dict_report',
    'read_state_dict'
]
