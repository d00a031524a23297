"""Convert the authors' released ImageNet checkpoints to our backbones.

Each supported architecture (:data:`ORIGINAL_ARCHS`) names the authors'
model file whose state-dict layout is read, the backbone of ours that holds
the same network, and the key mapping between the two:

- ``irnet-r18/34``, ``rbnn-r18/34``, ``recu-r18/34``: the ImageNet ResNets of
  IR-Net, RBNN and ReCU (torchvision names; ``downsample.0/1`` become
  ``downsample.conv/bn``). RBNN's per-conv ``R1``, ``R2``, ``rotate`` and
  ``alpha`` become ``weight_quantizer.rotation_left/right``,
  ``weight_quantizer.theta`` and ``output_scale.scale``; ReCU's ``alpha``
  and ``tau`` become ``output_scale.scale`` and ``weight_quantizer.tau``.
- ``bireal-r18/34``: Bi-Real's PyTorch ``birealnet.py``, whose blocks hold
  one binary conv each (``binary_conv.weights``, stored flat) where ours hold
  two: block ``2j`` / ``2j + 1`` of a stage become ``conv1`` / ``conv2`` of
  our block ``j``; the shortcut ``downsample.1/2`` (after the pool) becomes
  ``downsample.conv/bn``.
- ``reactnet-a``: ReActNet's ``mobilenet/*/reactnet.py`` (step 1, FP
  ``weight``, or step 2, flat binary ``weights``): ``feature.0`` is our stem,
  ``feature.1``-``feature.13`` our 13 blocks. ``LearnableBias`` adds its
  ``bias`` where our RSign and RPReLU subtract their shift, so ``move11``,
  ``move21``, ``move12`` and ``move22`` are negated; ``prelu*`` is the slope
  and ``move13`` / ``move23`` the output shift. A doubling block's
  ``binary_pw_down1/2`` and ``bn2_1/2`` are concatenated into our ``conv2``
  and ``bn2`` (see :class:`~.ReActBlock`).

The classifier head (``fc``, and the ResNets' 1-D ``bn2`` / ``bn3`` after
pooling) is dropped. Keys that no rule knows are reported as unexpected,
our keys the checkpoint does not provide as missing.
"""
import re
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import torch
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .binary_resnet import BinaryResNet
from .pretrained import CheckpointReport, load_state_dict_report, revise_key
from .reactnet import ReActNet

Shapes = Dict[str, torch.Size]
# converted key -> (tensor, original key(s) it comes from)
Converted = Dict[str, Tuple[Tensor, str]]


class ConvertedCheckpoint(NamedTuple):
    """The result of :func:`convert_original_state_dict`.

    Attributes:
        arch (str): The architecture (a key of :data:`ORIGINAL_ARCHS`).
        state_dict (dict[str, Tensor]): Our backbone's state dict.
        report (CheckpointReport): ``matched``: our keys filled;
            ``missing``: our keys the checkpoint does not provide (kept as
            initialised; quantizer schedule buffers are never listed);
            ``unexpected``: original keys not converted, classifier head
            included, named as in the original checkpoint.
        head (list[str]): The classifier-head keys among ``unexpected``.
        origins (dict[str, str]): For each key of ``state_dict``, the
            original key it comes from (``'a + b'`` for two concatenated
            halves).
    """

    arch: str
    state_dict: Dict[str, Tensor]
    report: CheckpointReport
    head: List[str]
    origins: Dict[str, str]


def _unflatten(value: Tensor, src: str, dst: str, shapes: Shapes) -> Tensor:
    """Reshape ``value`` to our ``dst``'s shape (same number of elements)."""
    shape = shapes.get(dst)
    if shape is None:
        return value
    if value.numel() != shape.numel():
        raise ValueError(f'original key {src!r} {tuple(value.shape)} cannot '
                         f'fill {dst!r} {tuple(shape)}: '
                         f'{value.numel()} vs {shape.numel()} elements')
    return value.reshape(shape)


def _channels(value: Tensor, src: str) -> Tensor:
    """A per-channel tensor ``(1, C, 1, 1)`` / ``(C, 1, 1)`` as ``(C,)``."""
    if sum(s > 1 for s in value.shape) > 1:
        raise ValueError(f'original key {src!r}: expected one value per '
                         f'channel, got shape {tuple(value.shape)}')
    return value.reshape(-1)


# Per-conv tensors of the binary convs besides ``weight``:
# original name -> (our name under the conv, per-channel vector?).
_CONV_EXTRAS = {
    'irnet': {},
    'rbnn': {
        'R1': ('weight_quantizer.rotation_left', False),
        'R2': ('weight_quantizer.rotation_right', False),
        'rotate': ('weight_quantizer.theta', True),
        'alpha': ('output_scale.scale', True),
    },
    'recu': {
        'alpha': ('output_scale.scale', True),
        'tau': ('weight_quantizer.tau', False),
    },
}
_RESNET_HEAD = re.compile(r'^(fc|bn2|bn3)\.')
_STEM = re.compile(r'^(conv1\.weight|bn1\.\w+)$')
_RESNET_CONV = re.compile(r'^(layer\d+\.\d+\.conv[12])\.(\w+)$')
_RESNET_BN = re.compile(r'^(layer\d+\.\d+\.bn[12])\.(\w+)$')
_RESNET_DOWN = re.compile(r'^(layer\d+\.0\.downsample)\.([01])\.(\w+)$')


def _convert_resnet(family: str) -> Callable:
    """IR-Net / RBNN / ReCU ImageNet ResNet -> :class:`~.IRNetResNet`."""
    extras = _CONV_EXTRAS[family]

    def convert(state: Dict[str, Tensor], shapes: Shapes,
                out: Converted) -> List[str]:
        unknown = []
        for key, value in state.items():
            if _STEM.match(key) or _RESNET_BN.match(key):
                out[key] = (value, key)
            elif _RESNET_DOWN.match(key):
                ours = revise_key(key, BinaryResNet.checkpoint_revise_keys)
                out[ours] = (value, key)
            elif _RESNET_CONV.match(key):
                conv, name = _RESNET_CONV.match(key).groups()
                if name == 'weight':
                    out[key] = (value, key)
                elif name in extras:
                    ours, per_channel = extras[name]
                    value = _channels(value, key) if per_channel else value
                    out[f'{conv}.{ours}'] = (value, key)
                else:
                    unknown.append(key)
            else:
                unknown.append(key)
        return unknown

    return convert


_BIREAL_CONV = re.compile(r'^(layer\d+)\.(\d+)\.binary_conv\.weights$')
_BIREAL_BN = re.compile(r'^(layer\d+)\.(\d+)\.bn1\.(\w+)$')
_BIREAL_DOWN = re.compile(r'^(layer\d+)\.0\.downsample\.([12])\.(\w+)$')


def _convert_bireal(state: Dict[str, Tensor], shapes: Shapes,
                    out: Converted) -> List[str]:
    """Bi-Real ``birealnet.py`` -> :class:`~.BiRealResNet`."""
    unknown = []
    for key, value in state.items():
        if _STEM.match(key):
            out[key] = (value, key)
            continue
        m = _BIREAL_CONV.match(key) or _BIREAL_BN.match(key)
        if m:
            stage, index = m.group(1), int(m.group(2))
            ours = f'{stage}.{index // 2}.'
            if m.re is _BIREAL_CONV:
                dst = f'{ours}conv{index % 2 + 1}.weight'
                out[dst] = (_unflatten(value, key, dst, shapes), key)
            else:
                out[f'{ours}bn{index % 2 + 1}.{m.group(3)}'] = (value, key)
            continue
        m = _BIREAL_DOWN.match(key)
        if m:
            part = dict(zip('12', ('conv', 'bn')))[m.group(2)]
            out[f'{m.group(1)}.0.downsample.{part}.{m.group(3)}'] = (value,
                                                                     key)
            continue
        unknown.append(key)
    return unknown


# ReActNet's per-block tensors: original -> (ours, sign) for the shifts and
# slopes (per-channel vectors).
_REACT_VECTORS = {
    'move11.bias': ('conv1.input_quantizer.bias', -1.0),
    'move12.bias': ('act1.shift_in', -1.0),
    'prelu1.weight': ('act1.slope', 1.0),
    'move13.bias': ('act1.shift_out', 1.0),
    'move21.bias': ('conv2.input_quantizer.bias', -1.0),
    'move22.bias': ('act2.shift_in', -1.0),
    'prelu2.weight': ('act2.slope', 1.0),
    'move23.bias': ('act2.shift_out', 1.0),
}
_REACT_FEATURE = re.compile(r'^feature\.(\d+)\.(.+)$')
_REACT_CONV = re.compile(r'^(binary_3x3|binary_pw|binary_pw_down[12])\.'
                         r'(weight|weights)$')
_REACT_BN = re.compile(r'^(bn1|bn2|bn2_[12])\.(\w+)$')


def _reactnet_blocks() -> List[str]:
    """Our name (``layerS.I``) of each of ReActNet-A's 13 blocks."""
    return [
        f'layer{s + 1}.{i}'
        for s, stage in enumerate(ReActNet.arch_settings['A'])
        for i in range(len(stage))
    ]


def _convert_reactnet(state: Dict[str, Tensor], shapes: Shapes,
                      out: Converted) -> List[str]:
    """ReActNet ``mobilenet/*/reactnet.py`` -> :class:`~.ReActNet`."""
    blocks = _reactnet_blocks()
    unknown = []
    halves: Dict[str, Dict[str, Tuple[Tensor, str]]] = {}
    for key, value in state.items():
        m = _REACT_FEATURE.match(key)
        if not m:
            unknown.append(key)
            continue
        index, name = int(m.group(1)), m.group(2)
        if index == 0:
            if _STEM.match(name):
                out[name] = (value, key)
            else:
                unknown.append(key)
            continue
        if index > len(blocks):
            unknown.append(key)
            continue
        block = blocks[index - 1]
        conv, bn = _REACT_CONV.match(name), _REACT_BN.match(name)
        if name in _REACT_VECTORS:
            ours, sign = _REACT_VECTORS[name]
            out[f'{block}.{ours}'] = (sign * _channels(value, key), key)
        elif conv and conv.group(1) in ('binary_3x3', 'binary_pw'):
            dst = f'{block}.conv{1 if conv.group(1) == "binary_3x3" else 2}' \
                '.weight'
            out[dst] = (_unflatten(value, key, dst, shapes), key)
        elif bn and bn.group(1) in ('bn1', 'bn2'):
            out[f'{block}.{name}'] = (value, key)
        elif conv or bn:  # one half of a doubling block's conv2 / bn2
            half = (conv or bn).group(1)[-1]
            dst = f'{block}.conv2.weight' if conv else \
                f'{block}.bn2.{bn.group(2)}'
            halves.setdefault(dst, {})[half] = (value, key)
        else:
            unknown.append(key)
    for dst, parts in halves.items():
        if set(parts) != {'1', '2'}:
            unknown.extend(key for _, key in parts.values())
            continue
        (first, key1), (second, key2) = parts['1'], parts['2']
        origin = f'{key1} + {key2}'
        if dst.endswith('num_batches_tracked'):
            out[dst] = (torch.maximum(first, second), origin)
            continue
        if dst.endswith('conv2.weight'):
            shape = shapes.get(dst)
            half = None if shape is None else torch.Size((shape[0] // 2, ) +
                                                         tuple(shape[1:]))
            half_shapes = {} if half is None else {dst: half}
            first = _unflatten(first, key1, dst, half_shapes)
            second = _unflatten(second, key2, dst, half_shapes)
        out[dst] = (torch.cat([first, second]), origin)
    return unknown


def _resnet(type_: str, depth: int, binarizer: str) -> dict:
    return dict(type=type_, depth=depth, binarizer=binarizer)


#: Supported architectures: our backbone, the original layout's converter,
#: its classifier-head keys and the authors' file read for the layout.
ORIGINAL_ARCHS: Dict[str, dict] = {
    **{
        f'{family}-r{depth}':
        dict(
            backbone=_resnet('IRNetResNet', depth, family),
            convert=_convert_resnet(family),
            head=_RESNET_HEAD,
            source=source.format(depth=depth))
        for family, source in (
            ('irnet', 'htqin/IR-Net ImageNet/ResNet{depth}/1w1a/models/'
             'resnet.py'),
            ('rbnn', 'lmbxmu/RBNN imagenet/models/resnet.py'),
            ('recu', 'z-hXu/ReCU imagenet/models_imagenet/resnet.py'),
        )
        for depth in (18, 34)
    },
    **{
        f'bireal-r{depth}':
        dict(
            backbone=_resnet('BiRealResNet', depth, 'bireal'),
            convert=_convert_bireal,
            head=re.compile(r'^fc\.'),
            source='liuzechun/Bi-Real-net pytorch_implementation/'
            'BiReal18_34/birealnet.py')
        for depth in (18, 34)
    },
    'reactnet-a': dict(
        backbone=dict(type='ReActNet', binarizer='reactnet'),
        convert=_convert_reactnet,
        head=re.compile(r'^fc\.'),
        source='liuzechun/ReActNet mobilenet/2_step2/reactnet.py (and '
        '1_step1)'),
}


def build_original_backbone(arch: str, **kwargs) -> nn.Module:
    """Our backbone for ``arch`` (the converted checkpoint's target).

    Args:
        arch (str): A key of :data:`ORIGINAL_ARCHS`.
        **kwargs: Backbone arguments to override (e.g. ``strides``).

    Returns:
        nn.Module: The backbone.
    """
    cfg = dict(_arch(arch)['backbone'])
    cfg.update(kwargs)
    return MODELS.build(cfg)


def _arch(arch: str) -> dict:
    if arch not in ORIGINAL_ARCHS:
        raise ValueError(f'unknown arch {arch!r}; supported: '
                         f'{", ".join(ORIGINAL_ARCHS)}')
    return ORIGINAL_ARCHS[arch]


def convert_original_state_dict(
        arch: str,
        state: Dict[str, Tensor],
        source: str = '<state dict>',
        model: Optional[nn.Module] = None) -> ConvertedCheckpoint:
    """Convert an original checkpoint's state dict to our backbone's.

    The converted state dict is loaded (non-strictly) into ``model`` (our
    backbone for ``arch`` when not given), which checks every shape.

    Args:
        arch (str): A key of :data:`ORIGINAL_ARCHS`.
        state (dict[str, Tensor]): The original state dict (``module.``
            prefix already removed, see :func:`~.read_state_dict`).
        source (str): Where it comes from, for the messages.
            Defaults to ``'<state dict>'``.
        model (nn.Module, optional): The backbone to check against and load
            into. Defaults to None (:func:`build_original_backbone`).

    Returns:
        ConvertedCheckpoint: The state dict and the report.

    Raises:
        ValueError: Unknown ``arch``, or a converted tensor whose shape is
            not the backbone's (the message names the original key and ours).
    """
    spec = _arch(arch)
    model = build_original_backbone(arch) if model is None else model
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    head = [k for k in state if spec['head'].match(k)]
    body = {k: v for k, v in state.items() if k not in head}
    converted: Converted = {}
    unknown = spec['convert'](body, shapes, converted)
    mismatched = [
        f'original {origin!r} -> {key!r}: {tuple(value.shape)} vs model '
        f'{tuple(shapes[key])}' for key, (value, origin) in converted.items()
        if key in shapes and value.shape != shapes[key]
    ]
    if mismatched:
        raise ValueError(f'{source} ({arch}): shape mismatch for '
                         f'{len(mismatched)} key(s): ' +
                         '; '.join(mismatched[:5]))
    new_state = {k: v for k, (v, _) in converted.items()}
    loaded = load_state_dict_report(model, new_state, source)
    # converted keys our model has no place for are unexpected too, named
    # by their original key
    unexpected = head + unknown + [converted[k][1] for k in loaded.unexpected]
    kept = {k: v for k, v in new_state.items() if k not in loaded.unexpected}
    report = CheckpointReport(source, loaded.matched, loaded.missing,
                              unexpected)
    origins = {k: converted[k][1] for k in kept}
    return ConvertedCheckpoint(arch, kept, report, head, origins)


__all__ = [
    'ORIGINAL_ARCHS', 'ConvertedCheckpoint', 'build_original_backbone',
    'convert_original_state_dict'
]
