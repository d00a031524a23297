"""The authors' ImageNet BNNs, written down independently of our classes.

For each architecture of
:data:`cmim_dense.models.backbones.original_checkpoints.ORIGINAL_ARCHS`:

- :func:`original_layout`: every state-dict key of the authors' model with
  its shape and what it is (``'binary'`` weight of a binary conv, ``'fp'``
  weight of an FP conv, another ``'param'`` or a ``'buffer'``), read from
  their model files (IR-Net ``ImageNet/ResNet18|34/1w1a/models/resnet.py``
  and ``modules/ir_1w1a.py``; RBNN ``imagenet/models/resnet.py`` and
  ``imagenet/modules/binarized_modules.py``; ReCU
  ``imagenet/models_imagenet/resnet.py`` and
  ``imagenet/modules/binarized_modules.py``; Bi-Real
  ``pytorch_implementation/BiReal18_34/birealnet.py``; ReActNet
  ``mobilenet/2_step2/reactnet.py``);
- :func:`original_features`: the authors' inference forward pass (eval
  mode) in plain torch on such a state dict, returning the outputs of the
  four stages (before the classifier).

Nothing here uses cmim_dense: the tests compare our converted backbones
against these.
"""
import math
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

Layout = List[Tuple[str, Tuple[int, ...], str]]
RESNET_BLOCKS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}
BIREAL_BLOCKS = {18: (4, 4, 4, 4), 34: (6, 8, 12, 6)}
# ReActNet-A: stage_out_channel of reactnet.py
REACT_CHANNELS = [32, 64, 128, 128, 256, 256] + [512] * 6 + [1024] * 2
HEAD_KEYS = {'fc.', 'bn2.', 'bn3.'}  # top-level keys of the classifier


def _bn(prefix: str, c: int) -> Layout:
    return [(f'{prefix}.weight', (c, ), 'param'),
            (f'{prefix}.bias', (c, ), 'param'),
            (f'{prefix}.running_mean', (c, ), 'buffer'),
            (f'{prefix}.running_var', (c, ), 'buffer'),
            (f'{prefix}.num_batches_tracked', (), 'buffer')]


def get_ab(n: int) -> Tuple[int, int]:
    """RBNN's ``get_ab``: the largest divisor ``<= sqrt(n)`` and its pair."""
    for i in range(int(math.sqrt(n)), 0, -1):
        if n % i == 0:
            return i, n // i
    raise AssertionError(n)


def _binary_conv(family: str, prefix: str, cout: int, cin: int,
                 k: int) -> Layout:
    """A binary conv of the IR-Net / RBNN / ReCU ResNets."""
    out = [(f'{prefix}.weight', (cout, cin, k, k), 'binary')]
    if family == 'rbnn':  # BinarizeConv2d: buffers R1, R2; alpha, rotate
        a, b = get_ab(cin * k * k)
        out += [(f'{prefix}.R1', (a, a), 'buffer'),
                (f'{prefix}.R2', (b, b), 'buffer'),
                (f'{prefix}.alpha', (cout, 1, 1), 'param'),
                (f'{prefix}.rotate', (cout, 1, 1, 1), 'param')]
    elif family == 'recu':  # BinarizeConv2d: alpha, buffer tau
        out += [(f'{prefix}.alpha', (cout, 1, 1), 'param'),
                (f'{prefix}.tau', (), 'buffer')]
    return out  # IR-Net's IRConv2d keeps k, t as plain attributes


def _resnet_blocks(blocks_per_stage: Tuple[int, ...]):
    """``(prefix, stage, index, in_channels, planes)`` of each block, as
    ``_make_layer`` of the ResNets builds them (64 * 2 ** stage planes)."""
    inplanes = 64
    for s, blocks in enumerate(blocks_per_stage):
        planes = 64 * 2**s
        for i in range(blocks):
            yield f'layer{s + 1}.{i}', s, i, inplanes, planes
            inplanes = planes


def _resnet_layout(family: str, depth: int) -> Layout:
    out = [('conv1.weight', (64, 3, 7, 7), 'fp')] + _bn('bn1', 64)
    for p, s, i, cin, planes in _resnet_blocks(RESNET_BLOCKS[depth]):
        out += _binary_conv(family, f'{p}.conv1', planes, cin, 3)
        out += _bn(f'{p}.bn1', planes)
        out += _binary_conv(family, f'{p}.conv2', planes, planes, 3)
        out += _bn(f'{p}.bn2', planes)
        if cin != planes or (s > 0 and i == 0):
            out += [(f'{p}.downsample.0.weight', (planes, cin, 1, 1), 'fp')
                    ] + _bn(f'{p}.downsample.1', planes)
    # head: avgpool, BatchNorm1d(512), fc (IR-Net and RBNN add bn3)
    out += _bn('bn2', 512) + [('fc.weight', (1000, 512), 'param'),
                              ('fc.bias', (1000, ), 'param')]
    if family in ('irnet', 'rbnn'):
        out += _bn('bn3', 1000)
    return out


def _bireal_layout(depth: int) -> Layout:
    out = [('conv1.weight', (64, 3, 7, 7), 'fp')] + _bn('bn1', 64)
    for p, s, i, cin, planes in _resnet_blocks(BIREAL_BLOCKS[depth]):
        # HardBinaryConv stores its weight flat: (numel, 1)
        out += [(f'{p}.binary_conv.weights', (planes * cin * 9, 1), 'binary')]
        out += _bn(f'{p}.bn1', planes)
        if cin != planes or (s > 0 and i == 0):  # AvgPool2d, conv1x1, BN
            out += [(f'{p}.downsample.1.weight', (planes, cin, 1, 1), 'fp')
                    ] + _bn(f'{p}.downsample.2', planes)
    return out + [('fc.weight', (1000, 512), 'param'),
                  ('fc.bias', (1000, ), 'param')]


def _react_vector(prefix: str, c: int) -> Layout:
    return [(f'{prefix}', (1, c, 1, 1), 'param')]


def _reactnet_layout() -> Layout:
    out = [('feature.0.conv1.weight', (32, 3, 3, 3), 'fp')]
    out += _bn('feature.0.bn1', 32)
    for n in range(1, len(REACT_CHANNELS)):
        cin, cout = REACT_CHANNELS[n - 1], REACT_CHANNELS[n]
        p = f'feature.{n}'
        out += _react_vector(f'{p}.move11.bias', cin)
        out += [(f'{p}.binary_3x3.weights', (cin * cin * 9, 1), 'binary')]
        out += _bn(f'{p}.bn1', cin)
        out += _react_vector(f'{p}.move12.bias', cin)
        out += [(f'{p}.prelu1.weight', (cin, ), 'param')]
        out += _react_vector(f'{p}.move13.bias', cin)
        out += _react_vector(f'{p}.move21.bias', cin)
        if cin == cout:
            out += [(f'{p}.binary_pw.weights', (cin * cout, 1), 'binary')]
            out += _bn(f'{p}.bn2', cout)
        else:
            out += [(f'{p}.binary_pw_down1.weights', (cin * cin, 1), 'binary'),
                    (f'{p}.binary_pw_down2.weights', (cin * cin, 1), 'binary')]
            out += _bn(f'{p}.bn2_1', cin) + _bn(f'{p}.bn2_2', cin)
        out += _react_vector(f'{p}.move22.bias', cout)
        out += [(f'{p}.prelu2.weight', (cout, ), 'param')]
        out += _react_vector(f'{p}.move23.bias', cout)
    return out + [('fc.weight', (1000, 1024), 'param'),
                  ('fc.bias', (1000, ), 'param')]


def original_layout(arch: str) -> Layout:
    """``(key, shape, kind)`` of every state-dict entry of the original."""
    family, _, variant = arch.partition('-')
    if family == 'reactnet':
        return _reactnet_layout()
    depth = int(variant[1:])
    if family == 'bireal':
        return _bireal_layout(depth)
    return _resnet_layout(family, depth)


def is_head(key: str) -> bool:
    """Whether a (top-level) key belongs to the classifier head."""
    return any(key.startswith(h) for h in HEAD_KEYS)


def random_original_state(arch: str, seed: int = 0) -> Dict[str, Tensor]:
    """A state dict with the original's keys and shapes, random values.

    BN running variances are in ``[0.5, 1.5]``, RBNN's rotations are random
    orthogonal matrices, ReCU's ``tau`` is 0.9 and ReActNet's PReLU slopes
    are in ``[0, 0.5]``; everything else is standard normal (weights scaled
    down, which the binarizers ignore).
    """
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape, _ in original_layout(arch):
        name = key.rsplit('.', 1)[-1]
        if name == 'num_batches_tracked':
            value = torch.tensor(100)
        elif name == 'running_var':
            value = torch.rand(shape, generator=gen) + 0.5
        elif name in ('R1', 'R2'):
            q, _ = torch.linalg.qr(torch.randn(shape, generator=gen))
            value = q
        elif name == 'tau':
            value = torch.tensor(0.9)
        elif key.split('.')[-2].startswith('prelu'):
            value = torch.rand(shape, generator=gen) * 0.5
        else:
            value = torch.randn(shape, generator=gen)
            if name in ('weight', 'weights'):
                value = value * 0.1
        state[key] = value
    return state


# ---------------------------------------------------------------------------
# The original forward passes (inference), from the authors' code.
# ---------------------------------------------------------------------------


def _batch_norm(x: Tensor, s: Dict[str, Tensor], p: str) -> Tensor:
    return F.batch_norm(x, s[f'{p}.running_mean'], s[f'{p}.running_var'],
                        s[f'{p}.weight'], s[f'{p}.bias'], False, 0.0, 1e-5)


def _per_out(w: Tensor, fn) -> Tensor:
    """``fn`` over each output channel's flattened weight, broadcastable."""
    return fn(w.view(w.size(0), -1)).view(-1, *([1] * (w.dim() - 1)))


def _irnet_conv(x: Tensor, s: Dict[str, Tensor], p: str,
                stride: int) -> Tensor:
    # ir_1w1a.IRConv2d.forward
    w = s[f'{p}.weight']
    bw = w - _per_out(w, lambda v: v.mean(-1))
    bw = bw / _per_out(bw, lambda v: v.std(-1))
    sw = torch.pow(
        2.0,
        torch.round(
            torch.log(_per_out(bw, lambda v: v.abs().mean(-1))) / math.log(2)))
    return F.conv2d(torch.sign(x), torch.sign(bw) * sw, None, stride, 1)


def _rbnn_conv(x: Tensor, s: Dict[str, Tensor], p: str, stride: int) -> Tensor:
    # binarized_modules.BinarizeConv2d.forward (no rotation update)
    w = s[f'{p}.weight']
    w1 = w - _per_out(w, lambda v: v.mean(-1))
    w2 = w1 / _per_out(w1, lambda v: v.std(-1))
    a1 = x - _per_out(x, lambda v: v.mean(-1))
    a2 = a1 / _per_out(a1, lambda v: v.std(-1))
    a, b = get_ab(w[0].numel())
    rotated = (
        s[f'{p}.R1'].t() @ w2.view(w.shape[0], a, b) @ s[f'{p}.R2']).view_as(w)
    w3 = w2 + torch.abs(torch.sin(s[f'{p}.rotate'])) * (rotated - w2)
    out = F.conv2d(torch.sign(a2), torch.sign(w3), None, stride, 1)
    return out * s[f'{p}.alpha']


def _recu_conv(x: Tensor, s: Dict[str, Tensor], p: str, stride: int) -> Tensor:
    # binarized_modules.BinarizeConv2d.forward in eval mode
    w = s[f'{p}.weight']
    w0 = w - w.mean([1, 2, 3], keepdim=True)
    w1 = w0 / (
        torch.sqrt(w0.var([1, 2, 3], keepdim=True) + 1e-5) / 2 / math.sqrt(2))
    q_tau = (-w1.abs().mean() * torch.log(2 - 2 * s[f'{p}.tau'])).item()
    w2 = torch.clamp(w1, -q_tau, q_tau)
    out = F.conv2d(torch.sign(x), torch.sign(w2), None, stride, 1)
    return out * s[f'{p}.alpha']


_RESNET_CONVS = dict(irnet=_irnet_conv, rbnn=_rbnn_conv, recu=_recu_conv)


def _resnet_features(family: str, depth: int, s: Dict[str, Tensor],
                     x: Tensor) -> List[Tensor]:
    conv = _RESNET_CONVS[family]
    x = F.conv2d(x, s['conv1.weight'], None, 2, 3)
    x = F.hardtanh(_batch_norm(x, s, 'bn1'))  # nonlinear1
    x = F.max_pool2d(x, 3, 2, 1)
    feats = []
    for st, blocks in enumerate(RESNET_BLOCKS[depth]):
        for i in range(blocks):
            p = f'layer{st + 1}.{i}'
            stride = 2 if st > 0 and i == 0 else 1
            out = _batch_norm(conv(x, s, f'{p}.conv1', stride), s, f'{p}.bn1')
            residual = x
            if f'{p}.downsample.0.weight' in s:
                residual = _batch_norm(
                    F.conv2d(x, s[f'{p}.downsample.0.weight'], None, stride),
                    s, f'{p}.downsample.1')
            out = F.hardtanh(out + residual)
            x = F.hardtanh(
                _batch_norm(conv(out, s, f'{p}.conv2', 1), s, f'{p}.bn2') +
                out)
        feats.append(x)
    return feats


def _hard_binary_conv(x: Tensor, flat: Tensor, cout: int, k: int,
                      stride: int) -> Tensor:
    # HardBinaryConv.forward (Bi-Real, ReActNet step 2; same value in train
    # and eval): sign(x) is taken by the caller
    cin = flat.numel() // (cout * k * k)
    w = flat.view(cout, cin, k, k)
    scale = w.abs().mean(dim=(1, 2, 3), keepdim=True)
    return F.conv2d(x, scale * torch.sign(w), None, stride, k // 2)


def _bireal_features(depth: int, s: Dict[str, Tensor],
                     x: Tensor) -> List[Tensor]:
    x = _batch_norm(F.conv2d(x, s['conv1.weight'], None, 2, 3), s, 'bn1')
    x = F.max_pool2d(x, 3, 2, 1)
    feats = []
    for st, blocks in enumerate(BIREAL_BLOCKS[depth]):
        planes = 64 * 2**st
        for i in range(blocks):
            p = f'layer{st + 1}.{i}'
            stride = 2 if st > 0 and i == 0 else 1
            out = _hard_binary_conv(
                torch.sign(x), s[f'{p}.binary_conv.weights'], planes, 3,
                stride)
            out = _batch_norm(out, s, f'{p}.bn1')
            residual = x
            if f'{p}.downsample.1.weight' in s:
                residual = _batch_norm(
                    F.conv2d(
                        F.avg_pool2d(x, 2, stride),
                        s[f'{p}.downsample.1.weight']), s, f'{p}.downsample.2')
            x = out + residual
        feats.append(x)
    return feats


def _move(x: Tensor, s: Dict[str, Tensor], key: str) -> Tensor:
    return x + s[key]  # LearnableBias, bias (1, C, 1, 1)


def _reactnet_features(s: Dict[str, Tensor], x: Tensor) -> List[Tensor]:
    x = _batch_norm(
        F.conv2d(x, s['feature.0.conv1.weight'], None, 2, 1), s,
        'feature.0.bn1')
    feats = []
    for n in range(1, len(REACT_CHANNELS)):
        cin, cout = REACT_CHANNELS[n - 1], REACT_CHANNELS[n]
        stride = 2 if cin != cout and cout != 64 else 1
        p = f'feature.{n}'
        out1 = torch.sign(_move(x, s, f'{p}.move11.bias'))
        out1 = _hard_binary_conv(out1, s[f'{p}.binary_3x3.weights'], cin, 3,
                                 stride)
        out1 = _batch_norm(out1, s, f'{p}.bn1')
        if stride == 2:
            x = F.avg_pool2d(x, 2, 2)
        out1 = x + out1
        out1 = _move(
            F.prelu(
                _move(out1, s, f'{p}.move12.bias'), s[f'{p}.prelu1.weight']),
            s, f'{p}.move13.bias')
        out2 = torch.sign(_move(out1, s, f'{p}.move21.bias'))
        if cin == cout:
            out2 = _batch_norm(
                _hard_binary_conv(out2, s[f'{p}.binary_pw.weights'], cout, 1,
                                  1), s, f'{p}.bn2') + out1
        else:
            halves = [
                _batch_norm(
                    _hard_binary_conv(
                        out2, s[f'{p}.binary_pw_down{j}.weights'], cin, 1, 1),
                    s, f'{p}.bn2_{j}') + out1 for j in (1, 2)
            ]
            out2 = torch.cat(halves, dim=1)
        x = _move(
            F.prelu(
                _move(out2, s, f'{p}.move22.bias'), s[f'{p}.prelu2.weight']),
            s, f'{p}.move23.bias')
        if n in (3, 5, 11, 13):  # ends of the strides 4, 8, 16, 32
            feats.append(x)
    return feats


def original_features(arch: str, state: Dict[str, Tensor],
                      x: Tensor) -> List[Tensor]:
    """The four stage outputs of the original's inference forward pass."""
    family, _, variant = arch.partition('-')
    if family == 'reactnet':
        return _reactnet_features(state, x)
    depth = int(variant[1:])
    if family == 'bireal':
        return _bireal_features(depth, state, x)
    return _resnet_features(family, depth, state, x)
