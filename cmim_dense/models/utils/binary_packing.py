"""Packed 1-bit export of binary models.

A packed checkpoint stores the weight of every binary layer (a layer with a
weight quantizer) as its quantized value ``Q = s_o * b`` with ``b`` in
``{-1, +1}``: the sign bits packed 8 per byte (``uint8``, row-major over the
weight, most significant bit first, ``1`` for ``+1``) plus one float32 scale
``s_o`` per output channel (1 where the quantizer has no scale). The weight
quantizer's own state (latent-weight schedules, RBNN rotations) is dropped:
deployment needs only ``Q``. Everything else (BN, FP layers, input quantizers,
output scales) is unchanged.

State-dict entries of a packed layer ``L``: ``L.weight_packed`` (uint8),
``L.weight_scale`` (float32, ``C_out``), ``L.weight_shape`` (int64). The
checkpoint's ``meta['binary_packing']`` lists the packed layers, the format
version and ``input_levels``: for every packed layer that binarizes its
input, the two values of that input (``(-1, 1)`` for ``sign``, ``(0, 1)``
for DoReFa's activation), so a runtime never treats a ``{0, 1}`` input as
``{-1, +1}`` (the activations themselves are computed at run time by the
kept input quantizer; only weights are packed); ``meta['cfg']`` keeps the training config so the model can
be rebuilt.

:func:`load_packed_checkpoint` rebuilds the binary weights and freezes those
layers (the form ``BinaryLayerMixin.freeze_weight`` of
:mod:`cmim_dense.models.layers.binary_layer` gives), so predictions equal the
unpacked model's exactly.
"""
from typing import Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor, nn

from cmim_dense.utils.atomic_io import atomic_torch_save
from ..layers.binary_layer import BinaryLayerMixin

PACKING_KEY = 'binary_packing'
PACKING_VERSION = 1
_SUFFIXES = ('weight_packed', 'weight_scale', 'weight_shape')


def pack_signs(values: Tensor) -> Tensor:
    """Pack the signs of ``values`` (``>= 0`` -> bit 1) into ``uint8``."""
    bits = (values.detach().reshape(-1) >= 0).cpu().numpy()
    return torch.from_numpy(np.packbits(bits))


def unpack_signs(packed: Tensor, shape: Tuple[int, ...]) -> Tensor:
    """Inverse of :func:`pack_signs`: a float32 ``{-1, +1}`` tensor."""
    count = int(np.prod(shape))
    bits = np.unpackbits(packed.cpu().numpy(), count=count)
    return torch.from_numpy(bits.astype(np.float32) * 2 - 1).view(shape)


def packable_layers(model: nn.Module) -> List[Tuple[str, BinaryLayerMixin]]:
    """Binary layers of ``model`` that have a weight quantizer."""
    return [
        (name, m) for name, m in model.named_modules()
        if isinstance(m, BinaryLayerMixin) and m.weight_quantizer is not None
    ]


def _split_weight(name: str, quantized: Tensor) -> Tuple[Tensor, Tensor]:
    """``Q -> (signs, per-output-channel scale)``, checking ``Q = s * b``."""
    flat = quantized.detach().flatten(1).float()
    scale = flat.abs().amax(1)
    signs = torch.where(flat >= 0, 1.0, -1.0)
    if not torch.equal(signs * scale[:, None], flat):
        raise ValueError(
            f'layer {name!r}: the quantized weight is not +-s per output '
            'channel, so it cannot be packed at 1 bit')
    return signs.view_as(quantized), scale


@torch.no_grad()
def pack_state_dict(model: nn.Module) -> Tuple[Dict[str, Tensor], List[str]]:
    """Packed state dict of ``model`` (see the module docstring).

    Args:
        model (nn.Module): A model with binary layers, weights loaded.

    Returns:
        tuple: The packed state dict and the names of the packed layers.

    Raises:
        ValueError: If the model has no binary layer with a weight quantizer
            or a quantized weight is not ``+-s`` per output channel.
    """
    layers = packable_layers(model)
    if not layers:
        raise ValueError('the model has no binary layer with a weight '
                         'quantizer: nothing to pack')
    state = model.state_dict()
    for name, layer in layers:
        prefix = f'{name}.' if name else ''
        quantizer = layer.weight_quantizer
        mode = quantizer.training
        quantizer.eval()
        quantized = quantizer(layer.weight)
        quantizer.train(mode)
        signs, scale = _split_weight(name, quantized)
        for key in [
                k for k in state if k.startswith(prefix + 'weight_quantizer.')
        ]:
            del state[key]
        del state[prefix + 'weight']
        state[prefix + 'weight_packed'] = pack_signs(signs)
        state[prefix + 'weight_scale'] = scale.to(torch.float32).cpu()
        state[prefix + 'weight_shape'] = torch.tensor(tuple(signs.shape))
    return state, [name for name, _ in layers]


def unpack_state_dict(state: Dict[str, Tensor],
                      layers: List[str]) -> Dict[str, Tensor]:
    """Inverse of :func:`pack_state_dict` for the layers' weights.

    Returns:
        dict: A state dict with ``L.weight = s * b`` for each packed layer
        (the weight quantizers' entries stay absent).
    """
    state = dict(state)
    for name in layers:
        prefix = f'{name}.' if name else ''
        try:
            packed, scale, shape = (state.pop(prefix + s) for s in _SUFFIXES)
        except KeyError as err:
            raise KeyError(f'packed checkpoint lacks {err} of layer '
                           f'{name!r}') from err
        shape = tuple(int(s) for s in shape)
        signs = unpack_signs(packed, shape)
        view = (-1, ) + (1, ) * (len(shape) - 1)
        state[prefix + 'weight'] = signs * scale.view(view)
    return state


def is_packed_checkpoint(checkpoint: Union[str, dict]) -> bool:
    """Whether a checkpoint (path or loaded dict) is a packed one.

    A path is opened memory-mapped (``weights_only=True``), so the tensors
    are not read.
    """
    if isinstance(checkpoint, str):
        checkpoint = torch.load(
            checkpoint, map_location='cpu', weights_only=True, mmap=True)
    meta = checkpoint.get('meta', {}) if isinstance(checkpoint, dict) else {}
    return isinstance(meta, dict) and PACKING_KEY in meta


def load_packed_checkpoint(model: nn.Module,
                           checkpoint: Union[str, dict],
                           map_location: str = 'cpu') -> dict:
    """Load a packed checkpoint into a freshly built model.

    The packed layers are frozen (their weight quantizers removed, the weight
    holding ``s * b``) and the whole state dict is loaded strictly.

    Args:
        model (nn.Module): The model built from the checkpoint's config.
        checkpoint (str | dict): Path (loaded with ``weights_only=True``)
            or the loaded checkpoint.
        map_location (str): Device for loading. Defaults to 'cpu'.

    Returns:
        dict: The checkpoint's ``meta``.

    Raises:
        ValueError: Not a packed checkpoint, or a packed layer is missing
            from the model or is not a binary layer.
    """
    source = checkpoint if isinstance(checkpoint, str) else '<dict>'
    if isinstance(checkpoint, str):
        checkpoint = torch.load(
            checkpoint, map_location=map_location, weights_only=True)
    meta = checkpoint.get('meta', {})
    info = meta.get(PACKING_KEY)
    if info is None:
        raise ValueError(f'{source} is not a packed binary checkpoint '
                         '(no meta["binary_packing"])')
    for name in info['layers']:
        try:
            layer = model.get_submodule(name)
        except AttributeError as err:
            raise ValueError(f'{source}: packed layer {name!r} is not in the '
                             'model') from err
        if not isinstance(layer, BinaryLayerMixin):
            raise ValueError(f'{source}: packed layer {name!r} is a '
                             f'{type(layer).__name__}, not a binary layer')
        layer.freeze_weight()
    state = unpack_state_dict(checkpoint['state_dict'], info['layers'])
    model.load_state_dict(state, strict=True)
    return meta


def input_levels(model: nn.Module,
                 layers: List[str]) -> Dict[str, List[float]]:
    """``{layer: [low, high]}`` of the binary input of each named layer
    that has an input quantizer (see the module docstring)."""
    levels = {}
    for name in layers:
        layer_levels = model.get_submodule(name).input_levels
        if layer_levels is not None:
            levels[name] = [float(v) for v in layer_levels]
    return levels


def save_atomic(obj: dict, path: str) -> None:
    """``torch.save`` that never leaves a half-written file."""
    atomic_torch_save(obj, path)


def state_dict_bytes(state: Dict[str, Tensor]) -> int:
    """Bytes of the tensors of a state dict."""
    return sum(t.numel() * t.element_size() for t in state.values())


def pack_checkpoint(model: nn.Module,
                    out_file: str,
                    meta: Optional[dict] = None) -> Dict[str, int]:
    """Write ``model`` as a packed checkpoint (atomically).

    Args:
        model (nn.Module): Model with its trained weights.
        out_file (str): Destination ``.pth``.
        meta (dict, optional): Meta to keep (e.g. ``cfg``,
            ``dataset_meta``). Defaults to None.

    Returns:
        dict: ``fp32_bytes`` and ``packed_bytes`` of the state dicts, and
        ``layers`` (number of packed layers).
    """
    state, layers = pack_state_dict(model)
    meta = dict(meta or {})
    meta[PACKING_KEY] = dict(
        version=PACKING_VERSION,
        layers=layers,
        input_levels=input_levels(model, layers))
    save_atomic(dict(meta=meta, state_dict=state), out_file)
    return dict(
        fp32_bytes=state_dict_bytes(model.state_dict()),
        packed_bytes=state_dict_bytes(state),
        layers=len(layers))
