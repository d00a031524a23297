"""Turn a trained binary model into its engine form, in place.

Every :class:`~cmim_dense.models.backbones.binary_basic_block.BinaryBasicBlock`
and :class:`~cmim_dense.models.backbones.reactnet_block.ReActBlock` becomes
its engine block (BN, shortcut add and activation in the engine's output
step) and every other binary :class:`~cmim_dense.models.layers.BinaryConv2d`
an :class:`~.engine_conv.EngineConv2d`; FP layers (stems, shortcuts' 1x1
convs, heads) stay PyTorch. Weights are packed once, here.
"""
from typing import Callable, Dict, List, Optional, Type

import torch
from mmengine.logging import print_log
from torch import nn

from cmim_dense.models.backbones.binary_basic_block import BinaryBasicBlock
from cmim_dense.models.backbones.reactnet_block import ReActBlock
from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.layers.binary_layer import BinaryLayerMixin
from .engine_blocks import EngineBasicBlock, EngineReActBlock
from .engine_conv import EngineConv2d, UnsupportedLayerError

Converter = Callable[[nn.Module, str], Optional[nn.Module]]
#: module class -> function(module, name) returning its engine form, or None
#: to leave it (and convert inside it).
ENGINE_CONVERTERS: Dict[Type[nn.Module], Converter] = {}


def register_engine_converter(cls: Type[nn.Module]):
    """Decorator: ``fn(module, name)`` converts modules of class ``cls``."""

    def wrap(fn: Converter) -> Converter:
        ENGINE_CONVERTERS[cls] = fn
        return fn

    return wrap


def _is_binary_conv(module: nn.Module) -> bool:
    return isinstance(module, BinaryConv2d) and module.is_quantized


@register_engine_converter(BinaryBasicBlock)
def _basic_block(block: BinaryBasicBlock, name: str) -> Optional[nn.Module]:
    if not (_is_binary_conv(block.conv1) and _is_binary_conv(block.conv2)):
        return None  # the FP twin
    return EngineBasicBlock(block, name)


@register_engine_converter(ReActBlock)
def _react_block(block: ReActBlock, name: str) -> Optional[nn.Module]:
    if not _is_binary_conv(block.conv1):
        return None
    return EngineReActBlock(block, name)


@register_engine_converter(BinaryConv2d)
def _binary_conv(conv: BinaryConv2d, name: str) -> Optional[nn.Module]:
    if not conv.is_quantized:
        return None
    return EngineConv2d.from_binary_conv(conv, name)


def _fuse_sequential_bn(model: nn.Module) -> None:
    """Fold ``Sequential(..., EngineConv2d, BN, ...)`` BNs into the conv."""
    for module in model.modules():
        if not isinstance(module, nn.Sequential):
            continue
        names = list(module._modules)
        for first, second in zip(names, names[1:]):
            conv, bn = module._modules[first], module._modules[second]
            if isinstance(conv, EngineConv2d) and conv.fused and \
                    conv.act_spec is None and conv.act is None and \
                    conv.bn is None and \
                    isinstance(bn, nn.modules.batchnorm._BatchNorm):
                conv.fuse_bn(bn)
                if conv.bn is None:  # folded
                    module._modules[second] = nn.Identity()


def _to_channels_last(module: nn.Module, args: tuple) -> tuple:
    return tuple(
        a.contiguous(memory_format=torch.channels_last
                     ) if isinstance(a, torch.Tensor) and a.dim() == 4 else a
        for a in args)


def convert_to_engine(model: nn.Module,
                      strict: bool = True,
                      channels_last: bool = True,
                      verbose: bool = False) -> Dict[str, List[str]]:
    """Replace the model's binary blocks and convs by engine modules.

    The model is put in eval mode (the engine form is inference only).
    Engine outputs are NHWC (``channels_last``); with ``channels_last`` the
    FP layers' weights are made ``channels_last`` too and the backbone's
    input is converted, so PyTorch's FP convs and pools (which are several
    times faster on CPU in that format) never reorder memory.

    Args:
        model (nn.Module): A trained binary model (weights loaded; frozen
            or packed weights work too).
        strict (bool): Raise on a binary layer the engine cannot run
            exactly; False leaves such layers in PyTorch (listed in the
            result's ``'pytorch'``). Defaults to True.
        channels_last (bool): See above. Defaults to True.
        verbose (bool): Log the summary. Defaults to False.

    Returns:
        dict: ``'engine'`` (converted module names), ``'pytorch'`` (binary
        layers left in PyTorch, with the reason).

    Raises:
        UnsupportedLayerError: With ``strict``, naming the layer and why.
        ValueError: If the model has no binary conv.
    """
    model.eval()
    report: Dict[str, List[str]] = dict(engine=[], pytorch=[])

    def visit(module: nn.Module, prefix: str) -> None:
        for child_name, child in list(module.named_children()):
            name = f'{prefix}{child_name}'
            fn = ENGINE_CONVERTERS.get(type(child))
            new = None
            if fn is not None:
                try:
                    new = fn(child, name)
                except UnsupportedLayerError as err:
                    if strict:
                        raise
                    report['pytorch'].append(f'{name}: {err}')
            elif isinstance(child, BinaryLayerMixin) and child.is_quantized:
                report['pytorch'].append(
                    f'{name}: {type(child).__name__} has no engine form')
            if new is not None:
                new.eval()
                setattr(module, child_name, new)
                report['engine'].append(name)
            visit(new if new is not None else child, f'{name}.')

    visit(model, '')
    _fuse_sequential_bn(model)
    if channels_last:
        model.to(memory_format=torch.channels_last)
        target = getattr(model, 'backbone', model)
        if not getattr(target, '_engine_channels_last', False):
            target.register_forward_pre_hook(_to_channels_last)
            target._engine_channels_last = True
    if not report['engine']:
        raise ValueError(
            'convert_to_engine: the model has no binary conv the '
            'engine can run' +
            (f' ({report["pytorch"]})' if report['pytorch'] else ''))
    if verbose:
        print_log(
            f'engine: {len(report["engine"])} modules converted; '
            f'{len(report["pytorch"])} binary layers left in PyTorch',
            logger='current')
    return report
