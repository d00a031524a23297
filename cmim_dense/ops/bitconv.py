"""Bit-packed XNOR-popcount binary convolution (the 1-bit CPU engine).

:func:`bitconv2d` computes, for a latent input ``x`` and a ``{-1, +1}``
filter ``b``::

    a   = sign(x - threshold_c)            (+1 where x >= threshold_c)
    dot = conv(pad(a, pad_value), b)       (integers, exact)
    y   = act(dot * alpha_o * s_n + beta_o + residual)

with the activations' signs packed 64 channels per ``uint64`` word (NHWC),
``dot = K - 2 popcount(a xor b)``. The work is done by the C extension
``cmim_dense.ops._bitconv`` (AVX-512 VPOPCNTDQ, AVX2, POPCNT or portable
scalar kernels, the best the CPU has chosen at run time; override with
``CMIM_BITCONV_ISA=avx512|avx2|popcnt|scalar``) on its own POSIX threads
(:func:`set_num_threads`). Without the extension (no compiler at install
time), on non-CPU / non-float32 tensors, or with ``CMIM_BITCONV_FALLBACK=1``,
the same formula runs in PyTorch (``F.conv2d`` on ``{-1, +1}`` floats).

Weights are packed once by :func:`pack_weight` into the layout the kernels
read: ``[groups][ceil(C_out_g / 8)][kh * kw * ceil(C_in_g / 64)][8]`` words,
bit ``c % 64`` set for a ``-1`` weight; the same packed tensor serves the
PyTorch fallback (:func:`unpack_weight`). Output tensors are
``channels_last`` (NHWC memory).
"""
import os
import warnings
from typing import Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

PAD_MODES = {1.0: 0, -1.0: 1, 0.0: 2}  # pad_value -> the C pad mode
ACT_CODES = {None: 0, 'clamp': 1, 'rprelu': 2}
WORD_BITS = 64
BLOCK = 8  # output channels per weight block

_ext = None
_ext_error: Optional[str] = None
_warned = False
_threads: Optional[int] = None


def _load_extension():
    global _ext, _ext_error
    if _ext is not None or _ext_error is not None:
        return _ext
    if os.environ.get('CMIM_BITCONV_FALLBACK', '0') not in ('', '0'):
        _ext_error = 'CMIM_BITCONV_FALLBACK is set'
        return None
    try:
        from . import _bitconv
    except ImportError as err:
        _ext_error = str(err)
        return None
    _ext = _bitconv
    return _ext


def engine_available() -> bool:
    """Whether the C engine is built and enabled."""
    return _load_extension() is not None


def engine_isa() -> str:
    """Kernels in use: ``'avx512'``, ``'avx2'``, ``'popcnt'``, ``'scalar'``,
    or ``'pytorch'`` for the fallback."""
    ext = _load_extension()
    return 'pytorch' if ext is None else ext.isa()


def available_isas() -> Tuple[str, ...]:
    """Kernels this CPU and build can run, best first (empty: fallback)."""
    ext = _load_extension()
    return () if ext is None else tuple(ext.available_isas())


def set_isa(name: str) -> str:
    """Select the kernels (``'auto'`` for the best); returns the previous.

    Args:
        name (str): One of :func:`available_isas` or ``'auto'``.

    Raises:
        RuntimeError: The C engine is not available.
        ValueError: The CPU or build cannot run ``name``.
    """
    ext = _load_extension()
    if ext is None:
        raise RuntimeError(f'set_isa({name!r}): the C engine is not '
                           f'available ({_ext_error})')
    return ext.set_isa(name)


def set_num_threads(threads: Optional[int]) -> None:
    """Threads of the C engine; None follows ``torch.get_num_threads()``.

    Args:
        threads (int, optional): Positive thread count, or None.
    """
    if threads is not None and (int(threads) != threads or threads < 1):
        raise ValueError(f'set_num_threads: threads must be a positive int '
                         f'or None, got {threads!r}')
    global _threads
    _threads = None if threads is None else int(threads)


def get_num_threads() -> int:
    """Threads the C engine uses."""
    return torch.get_num_threads() if _threads is None else _threads


def _warn_fallback() -> None:
    global _warned
    if not _warned:
        _warned = True
        warnings.warn(
            'cmim_dense binary engine: the C extension is not available '
            f'({_ext_error}); binary convs run in PyTorch (correct but not '
            'faster than FP32). Reinstall with a C compiler and the Python '
            'headers: pip install -e .',
            RuntimeWarning,
            stacklevel=3)


def packed_words(weight_shape: Sequence[int], groups: int) -> int:
    """Number of ``uint64`` words :func:`pack_weight` produces."""
    cout, cin_g, kh, kw = (int(s) for s in weight_shape)
    k = kh * kw * -(-cin_g // WORD_BITS)
    return groups * -(-(cout // groups) // BLOCK) * k * BLOCK


def pack_weight(signs: Tensor, groups: int = 1) -> Tensor:
    """Pack a ``{-1, +1}`` conv weight into the kernels' layout.

    Args:
        signs (Tensor): ``(C_out, C_in / groups, kh, kw)``; a bit is set
            where the value is negative.
        groups (int): Conv groups. Defaults to 1.

    Returns:
        Tensor: ``int64`` words (the bits of ``uint64``), 1-D.
    """
    if signs.dim() != 4:
        raise ValueError(f'pack_weight: expected a 4-D conv weight, got '
                         f'shape {tuple(signs.shape)}')
    cout, cin_g, kh, kw = signs.shape
    if groups < 1 or cout % groups:
        raise ValueError(f'pack_weight: groups={groups} does not divide '
                         f'C_out={cout}')
    words = -(-cin_g // WORD_BITS)
    bits = (signs.detach().cpu() < 0).permute(0, 2, 3, 1)  # O, kh, kw, C
    bits = F.pad(bits.to(torch.uint8), (0, words * WORD_BITS - cin_g))
    bits = bits.reshape(cout, kh * kw * words, WORD_BITS // 8, 8)
    weights = torch.tensor([1 << i for i in range(8)], dtype=torch.uint8)
    packed = (bits * weights).sum(-1, dtype=torch.uint8)  # little endian
    packed = packed.reshape(-1).contiguous().view(torch.int64).view(cout, -1)
    cog, k = cout // groups, packed.shape[1]
    blocks = -(-cog // BLOCK)
    packed = packed.view(groups, cog, k)
    packed = F.pad(packed, (0, 0, 0, blocks * BLOCK - cog))
    packed = packed.view(groups, blocks, BLOCK, k).transpose(2, 3)
    return packed.contiguous().view(-1)


def unpack_weight(packed: Tensor, weight_shape: Sequence[int],
                  groups: int) -> Tensor:
    """Inverse of :func:`pack_weight`: a float32 ``{-1, +1}`` weight."""
    cout, cin_g, kh, kw = (int(s) for s in weight_shape)
    words = -(-cin_g // WORD_BITS)
    cog, k = cout // groups, kh * kw * words
    blocks = -(-cog // BLOCK)
    if packed.numel() != groups * blocks * k * BLOCK:
        raise ValueError(
            f'unpack_weight: {packed.numel()} words do not fit weight shape '
            f'{tuple(weight_shape)} with groups={groups}')
    w = packed.detach().cpu().view(groups, blocks, k, BLOCK).transpose(2, 3)
    w = w.reshape(groups, blocks * BLOCK, k)[:, :cog].reshape(cout, k)
    as_bytes = w.reshape(-1).contiguous().view(torch.uint8)
    as_bytes = as_bytes.view(cout, k, 8, 1)
    shifts = torch.arange(8, dtype=torch.uint8)
    bits = ((as_bytes >> shifts) & 1).view(cout, kh, kw, words * WORD_BITS)
    bits = bits[..., :cin_g].permute(0, 3, 1, 2)
    return 1.0 - 2.0 * bits.to(torch.float32)


def tap_sums(signs: Tensor) -> Tensor:
    """``int32 (C_out, kh * kw)``: each filter tap summed over channels.

    The zero-padding correction: a tap outside the input contributes
    ``pad_value * tap_sum``.
    """
    return signs.detach().cpu().sum(1).flatten(1).round().to(torch.int32)


def _output_size(size: int, pad: int, kernel: int, stride: int,
                 dilation: int) -> int:
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def _f32(t: Optional[Tensor], name: str, numel: int) -> Optional[Tensor]:
    if t is None:
        return None
    t = t.detach().to(torch.float32).contiguous()
    if t.numel() != numel:
        raise ValueError(f'bitconv2d: {name} must have {numel} elements, '
                         f'got {t.numel()}')
    return t


def bitconv2d(x: Tensor,
              packed: Tensor,
              weight_shape: Sequence[int],
              stride: Tuple[int, int] = (1, 1),
              padding: Tuple[int, int, int, int] = (0, 0, 0, 0),
              dilation: Tuple[int, int] = (1, 1),
              groups: int = 1,
              pad_value: float = 1.0,
              threshold: Optional[Tensor] = None,
              alpha: Optional[Tensor] = None,
              beta: Optional[Tensor] = None,
              sample_scale: Optional[Tensor] = None,
              residual: Optional[Tensor] = None,
              act: Optional[Tuple] = None,
              tapsum: Optional[Tensor] = None,
              raw: bool = False,
              out: Optional[Tensor] = None) -> Tensor:
    """Binary conv of ``sign(x - threshold)`` with packed weights.

    Args:
        x (Tensor): Latent input ``(N, C_in, H, W)``, any memory format.
        packed (Tensor): :func:`pack_weight` of the ``{-1, +1}`` weight.
        weight_shape (Sequence[int]): ``(C_out, C_in / groups, kh, kw)``.
        stride, dilation (tuple[int, int]): As ``F.conv2d``.
        padding (tuple[int, int, int, int]): ``(left, right, top, bottom)``
            (``F.pad`` order).
        groups (int): Conv groups.
        pad_value (float): +1, -1 or 0: the value the binary input is
            padded with.
        threshold (Tensor, optional): ``C_in`` per-channel shifts of the
            sign; None for 0.
        alpha, beta (Tensor, optional): ``C_out`` output scale and bias
            (required unless ``raw``).
        sample_scale (Tensor, optional): ``N`` per-sample factors.
        residual (Tensor, optional): Added before ``act``; output-shaped.
        act (tuple, optional): ``('clamp', lo, hi)`` or
            ``('rprelu', shift_in, slope, shift_out)`` (per-channel tensors).
        tapsum (Tensor, optional): :func:`tap_sums`, needed for
            ``pad_value=0``.
        raw (bool): Return the integer dot products (as float32) only.
        out (Tensor, optional): Output view ``(N, C_out, Ho, Wo)`` with
            channel stride 1 (e.g. a channel slice of a channels_last
            tensor) to write into.

    Returns:
        Tensor: ``(N, C_out, Ho, Wo)`` float32, channels_last.
    """
    if x.dim() != 4:
        raise ValueError(f'bitconv2d: expected a 4-D input, got shape '
                         f'{tuple(x.shape)}')
    cout, cin_g, kh, kw = (int(s) for s in weight_shape)
    n, cin, h, w = x.shape
    if cin != cin_g * groups:
        raise ValueError(
            f'bitconv2d: input has {cin} channels, the weight expects '
            f'{cin_g} x groups={groups} = {cin_g * groups}')
    if pad_value not in PAD_MODES:
        raise ValueError(f'bitconv2d: pad_value must be -1, 0 or 1, got '
                         f'{pad_value!r}')
    if not raw and (alpha is None or beta is None):
        raise ValueError('bitconv2d: alpha and beta are required unless raw')
    pl, pr, pt, pb = (int(p) for p in padding)
    ho = _output_size(h, pt + pb, kh, stride[0], dilation[0])
    wo = _output_size(w, pl + pr, kw, stride[1], dilation[1])
    if ho < 1 or wo < 1:
        raise ValueError(f'bitconv2d: input {h}x{w} too small for kernel '
                         f'{kh}x{kw} with dilation {tuple(dilation)}')
    if pad_value == 0 and tapsum is None and any((pl, pr, pt, pb)):
        raise ValueError('bitconv2d: pad_value=0 needs tapsum')
    ext = _load_extension()
    if ext is None or x.device.type != 'cpu' or x.dtype != torch.float32:
        if ext is None:
            _warn_fallback()
        return _bitconv2d_torch(x, packed, weight_shape, stride,
                                (pl, pr, pt, pb), dilation, groups, pad_value,
                                threshold, alpha, beta, sample_scale, residual,
                                act, raw, out)
    thr = _f32(threshold, 'threshold', cin)
    alpha, beta = _f32(alpha, 'alpha', cout), _f32(beta, 'beta', cout)
    ss = _f32(sample_scale, 'sample_scale', n)
    packed = packed.contiguous()
    if packed.dtype != torch.int64 or packed.numel() != packed_words(
            weight_shape, groups):
        raise ValueError('bitconv2d: packed must be the int64 words of '
                         'pack_weight for this weight_shape and groups')
    tsum = None
    if pad_value == 0:
        tsum = tapsum.detach().to(torch.int32).contiguous()
        if tsum.numel() != cout * kh * kw:
            raise ValueError(f'bitconv2d: tapsum must have {cout * kh * kw} '
                             f'elements, got {tsum.numel()}')
    if residual is not None:
        if tuple(residual.shape) != (n, cout, ho, wo):
            raise ValueError(
                f'bitconv2d: residual has shape {tuple(residual.shape)}, '
                f'the output is {(n, cout, ho, wo)}')
        residual = residual.detach().to(torch.float32)
    if out is None:
        out = torch.empty((n, ho, wo, cout)).permute(0, 3, 1, 2)
    elif (tuple(out.shape) != (n, cout, ho, wo) or out.dtype != torch.float32
          or out.stride(1) != 1 or out.stride(2) != wo * out.stride(3)
          or out.stride(0) != ho * wo * out.stride(3)):
        raise ValueError('bitconv2d: out must be a float32 (N, C_out, Ho, '
                         'Wo) view with channel stride 1 over NHWC memory')
    lo = hi = 0.0
    acts = [None, None, None]
    kind = None if act is None else act[0]
    if kind not in ACT_CODES:
        raise ValueError(f'bitconv2d: unknown act {kind!r}')
    if kind == 'clamp':
        lo, hi = float(act[1]), float(act[2])
    elif kind == 'rprelu':
        acts = [_f32(t, 'act', cout) for t in act[1:]]

    def ptr(t: Optional[Tensor]) -> int:
        return 0 if t is None else t.data_ptr()

    xs = x.stride()
    rs = residual.stride() if residual is not None else (0, 0, 0, 0)
    ext.conv2d(x.data_ptr(), n, cin, h, w, *xs, ptr(thr), packed.data_ptr(),
               cout, groups, kh, kw, stride[0], stride[1], dilation[0],
               dilation[1], pt, pl, pb, pr, PAD_MODES[pad_value], ptr(tsum),
               ptr(alpha), ptr(beta), ptr(ss), ptr(residual),
               *rs, ACT_CODES[kind], lo, hi, ptr(acts[0]), ptr(acts[1]),
               ptr(acts[2]), out.data_ptr(), out.stride(3), int(raw),
               get_num_threads())
    return out


def apply_act(v: Tensor, act: Optional[Tuple]) -> Tensor:
    """The epilogue activation of :func:`bitconv2d` in PyTorch."""
    if act is None:
        return v
    if act[0] == 'clamp':
        return v.clamp(act[1], act[2])
    shift_in, slope, shift_out = (t.view(1, -1, 1, 1).to(v) for t in act[1:])
    v = v - shift_in
    return torch.where(v > 0, v, slope * v) + shift_out


def _bitconv2d_torch(x: Tensor, packed: Tensor, weight_shape: Sequence[int],
                     stride, padding, dilation, groups: int, pad_value: float,
                     threshold, alpha, beta, sample_scale, residual, act,
                     raw: bool, out: Optional[Tensor]) -> Tensor:
    """PyTorch path of :func:`bitconv2d` (same formula, any device)."""
    weight = unpack_weight(packed, weight_shape, groups).to(x.device)
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    xq = x.to(compute)
    if threshold is not None:
        xq = xq - threshold.to(xq).view(1, -1, 1, 1)
    signs = torch.where(xq < 0, -1.0, 1.0).to(compute)
    signs = F.pad(signs, padding, value=float(pad_value))
    y = F.conv2d(signs, weight.to(compute), None, stride, 0, dilation, groups)
    if not raw:
        scale = alpha.to(y).view(1, -1, 1, 1)
        if sample_scale is not None:
            scale = scale * sample_scale.to(y).view(-1, 1, 1, 1)
        y = y * scale + beta.to(y).view(1, -1, 1, 1)
        if residual is not None:
            y = y + residual.to(y)
        y = apply_act(y, act)
    y = y.to(x.dtype).contiguous(memory_format=torch.channels_last)
    if out is not None:
        out.copy_(y)
        return out
    return y
