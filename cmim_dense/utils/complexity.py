"""Complexity accounting of (binary) networks: FLOPs, BOPs, OPs, sizes.

The counts follow the convention of the BNN literature (Bi-Real Net,
ReActNet):

- Only the multiply-accumulates (MACs) of convolutions
  (``nn.Conv1d/2d/3d``, transposed convs, :class:`BinaryConv2d`) and fully
  connected layers (``nn.Linear``, :class:`BinaryLinear`) are counted.
  Batch norm, activations, pooling, shortcut additions, interpolation,
  quantizers and bias additions are ignored. A conv contributes
  ``out_elements * in_channels / groups * kh * kw`` MACs (stride, padding
  and dilation act through the output size), a transposed conv
  ``in_elements * out_channels / groups * kh * kw`` and a linear layer
  ``in_features * out_features`` per row (per vector of its input).
- The MACs of a layer that binarizes both its input and its weight
  (``layer.is_binary``: ``input_quantizer`` and ``weight_quantizer``
  present, whatever the input's ``levels``: DoReFa's ``{0, 1}`` activations
  times ``+-E`` weights are AND-popcounts, as cheap as XNOR-popcounts) are
  binary operations, **BOPs**; every other layer's MACs are
  **FLOPs** -- including a layer with binary weights but FP activations
  (``weight_quantizer`` only; kind ``'binary-weight'``) and one with binary
  activations but FP weights. A layer whose weight was frozen to its binary
  values (``freeze_weight``, the packed-checkpoint form) keeps its kind.
- **OPs** ``= BOPs / 64 + FLOPs`` (a 64-bit CPU does 64 XNOR-popcounts per
  instruction).
- Counts are for the given inputs, batch included: pass a batch of one
  for per-image numbers. A layer called several times adds up its calls.
  Layers are found by forward hooks, so work done by functional calls
  (``F.conv2d`` in a module's ``forward``, ``nn.MultiheadAttention``'s
  projections) is not counted.

Sizes count the **parameters of the modules the forward pass runs**
(an auxiliary head that only training uses is left out and reported as
``unused_params``); buffers (BN running statistics, quantizer schedules,
RBNN rotations) are excluded. ``size_fp32_bytes`` stores every
parameter in 32 bits. ``size_packed_bytes`` stores the ``weight`` of every
layer with binary weights (``weight_quantizer`` present, whether its
activations are binary or not) at 1 bit per element plus one fp32 scale per
output channel (the deployed ``alpha_w``; counted for every binarizer, an
upper bound for the unscaled ones), and everything else -- biases,
quantizer and output-scale parameters, BN affine parameters, FP layers --
at 32 bits. Parameters shared by several modules are counted once. This is
the layout of :mod:`cmim_dense.models.utils.binary_packing` except that the
packed export also drops the weight quantizers' own parameters (e.g. RBNN's
``theta``), which are counted here.
"""
import math
from dataclasses import asdict, dataclass, field
from typing import (Any, Callable, Dict, List, Optional, Sequence, Set, Tuple,
                    Union)

import torch
from torch import Tensor, nn
from torch.nn.modules.conv import _ConvNd, _ConvTransposeNd

COUNTED_TYPES = (_ConvNd, nn.Linear)
FP_BITS = 32
BINARY_BITS = 1
OPS_PER_BOP = 1 / 64


@dataclass
class LayerComplexity:
    """The counts of one conv / linear layer.

    Attributes:
        name (str): Dotted module name in the model.
        type (str): Class name, e.g. ``'BinaryConv2d'``.
        kind (str): ``'binary'`` (binary activations and weights: MACs are
            BOPs), ``'binary-weight'`` (binary weights, FP activations:
            MACs are FLOPs, weights 1 bit) or ``'fp'``.
        output_shape (tuple[int]): Shape of the output of the first call.
        calls (int): Number of forward calls counted.
        macs (int): Multiply-accumulates of all calls.
        flops (int): FP MACs (``macs`` unless the layer is binary).
        bops (int): Binary MACs (``macs`` if the layer is binary).
        params (int): Parameters of the layer (its quantizers' included).
        weight_bits (int): Packed storage of those parameters in bits
            (see the module docstring).
    """

    name: str
    type: str
    kind: str
    output_shape: Tuple[int, ...]
    calls: int = 0
    macs: int = 0
    flops: int = 0
    bops: int = 0
    params: int = 0
    weight_bits: int = 0

    @property
    def ops(self) -> float:
        """``bops / 64 + flops``."""
        return self.bops * OPS_PER_BOP + self.flops


@dataclass
class ComplexityReport:
    """Per-layer and total complexity of a model for one input.

    Attributes:
        input_shapes (list[tuple[int]]): Shapes of the tensor inputs.
        layers (list[LayerComplexity]): Counted layers in call order.
        flops (int): Total FP MACs.
        bops (int): Total binary MACs.
        params (int): Parameters of the modules the forward pass ran
            (counted layers or not).
        unused_params (int): Parameters of modules it did not run (e.g. an
            auxiliary head), not in the sizes.
        size_fp32_bytes (int): Size with every parameter in fp32.
        size_packed_bytes (int): Size with binary weights packed at 1 bit
            (rounded up to whole bytes).
    """

    input_shapes: List[Tuple[int, ...]]
    layers: List[LayerComplexity] = field(default_factory=list)
    flops: int = 0
    bops: int = 0
    params: int = 0
    unused_params: int = 0
    size_fp32_bytes: int = 0
    size_packed_bytes: int = 0

    @property
    def macs(self) -> int:
        """All MACs, binary or not."""
        return self.flops + self.bops

    @property
    def ops(self) -> float:
        """``bops / 64 + flops`` (Bi-Real / ReActNet OPs)."""
        return self.bops * OPS_PER_BOP + self.flops

    def totals(self) -> Dict[str, Union[int, float]]:
        """The model totals as a flat dict."""
        return dict(
            flops=self.flops,
            bops=self.bops,
            ops=self.ops,
            macs=self.macs,
            params=self.params,
            unused_params=self.unused_params,
            size_fp32_bytes=self.size_fp32_bytes,
            size_packed_bytes=self.size_packed_bytes)

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-serializable dict: ``input_shapes``, ``totals``, ``layers``.

        Each layer entry holds the fields of :class:`LayerComplexity` plus
        ``ops``; shapes are lists.
        """
        layers = []
        for layer in self.layers:
            row = asdict(layer)
            row['output_shape'] = list(layer.output_shape)
            row['ops'] = layer.ops
            layers.append(row)
        return dict(
            input_shapes=[list(s) for s in self.input_shapes],
            totals=self.totals(),
            layers=layers)


def has_binary_weight(module: nn.Module) -> bool:
    """Whether a layer's weight is binary: it has a ``weight_quantizer``, or
    its weight was frozen to the quantized values (deploy form, see
    ``BinaryLayerMixin.freeze_weight`` in
    :mod:`cmim_dense.models.layers.binary_layer`)."""
    return getattr(module, 'weight_quantizer', None) is not None or \
        bool(getattr(module, 'is_weight_frozen', False))


def layer_kind(module: nn.Module) -> str:
    """``'binary'``, ``'binary-weight'`` or ``'fp'`` for a conv / linear.

    Args:
        module (nn.Module): The layer.

    Returns:
        str: ``'binary'`` if ``module.is_binary`` (or it binarizes its input
        and its weight is frozen binary), ``'binary-weight'`` if only its
        weight is binary, else ``'fp'``.
    """
    if not has_binary_weight(module):
        return 'fp'
    if getattr(module, 'is_binary', False) or \
            getattr(module, 'input_quantizer', None) is not None:
        return 'binary'
    return 'binary-weight'


def _out_channels(module: nn.Module) -> int:
    if isinstance(module, nn.Linear):
        return module.out_features
    return module.out_channels


def layer_macs(module: nn.Module, inputs: Sequence[Any],
               output: Tensor) -> int:
    """MACs of one call of a conv / linear layer.

    Args:
        module (nn.Module): A ``_ConvNd`` or ``nn.Linear``.
        inputs (Sequence): The positional inputs of the call.
        output (Tensor): Its output.

    Returns:
        int: Multiply-accumulates of the call (bias additions excluded).
    """
    if isinstance(module, _ConvTransposeNd):
        kernel = math.prod(module.kernel_size)
        return inputs[0].numel() * (module.out_channels //
                                    module.groups) * kernel
    if isinstance(module, _ConvNd):
        kernel = math.prod(module.kernel_size)
        return output.numel() * (module.in_channels // module.groups) * kernel
    return output.numel() * module.in_features


def _unique_params(module: nn.Module,
                   seen: Optional[Set[int]] = None,
                   recurse: bool = True) -> List[nn.Parameter]:
    """The parameters of ``module`` not in ``seen`` (which is updated)."""
    seen = set() if seen is None else seen
    params = []
    for param in module.parameters(recurse=recurse):
        if id(param) not in seen:
            seen.add(id(param))
            params.append(param)
    return params


def _param_bits(params: Sequence[nn.Parameter],
                binary_weights: Set[int]) -> int:
    return sum(p.numel() *
               (BINARY_BITS if id(p) in binary_weights else FP_BITS)
               for p in params)


def _counted_layers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """Conv / linear modules of ``model``, not those nested in another."""
    layers: List[Tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        if not isinstance(module, COUNTED_TYPES):
            continue
        if any(
                name.startswith(f'{outer}.') or not outer
                for outer, _ in layers):
            continue
        layers.append((name, module))
    return layers


def _layer_storage(module: nn.Module) -> Tuple[int, int]:
    """``(params, packed bits)`` of one counted layer, scales included."""
    params = _unique_params(module)
    binary = {id(module.weight)} if has_binary_weight(module) else set()
    bits = _param_bits(params, binary)
    if binary:
        bits += FP_BITS * _out_channels(module)
    return sum(p.numel() for p in params), bits


def _as_args(inputs: Union[Tensor, Sequence[Any]]) -> Tuple[Any, ...]:
    if isinstance(inputs, Tensor):
        return (inputs, )
    if isinstance(inputs, (list, tuple)):
        return tuple(inputs)
    raise TypeError(f'analyze_complexity: inputs must be a Tensor or a '
                    f'tuple of positional arguments, got {type(inputs)}')


def analyze_complexity(
        model: nn.Module,
        inputs: Union[Tensor, Sequence[Any]],
        forward_kwargs: Optional[Dict[str, Any]] = None,
        forward_fn: Optional[Callable[..., Any]] = None) -> ComplexityReport:
    """Count FLOPs, BOPs, OPs, parameters and sizes of ``model``.

    The model is run once in eval mode under ``torch.no_grad()`` with forward
    hooks on its conv / linear layers; the hooks are removed and every
    module's train/eval mode restored afterwards, also when the forward
    raises. The conventions are those of the module docstring.

    Args:
        model (nn.Module): The model. Its parameters define the sizes.
        inputs (Tensor | tuple): The input, or a tuple of positional
            arguments of the forward call. Use a batch of one for
            per-image counts.
        forward_kwargs (dict, optional): Keyword arguments of the forward
            call, e.g. ``dict(data_samples=None, mode='tensor')`` for an
            mmseg segmentor. Defaults to None.
        forward_fn (callable, optional): Called as
            ``forward_fn(*inputs, **forward_kwargs)`` instead of
            ``model(...)``, e.g. ``model.backbone`` or
            ``model.extract_feat``. Defaults to None.

    Returns:
        ComplexityReport: Layers in call order and the totals.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1))
        >>> report = analyze_complexity(net, torch.rand(1, 3, 16, 16))
        >>> report.flops  # 8 * 16 * 16 * 3 * 3 * 3
        55296
    """
    args = _as_args(inputs)
    kwargs = dict(forward_kwargs or {})
    call = model if forward_fn is None else forward_fn
    report = ComplexityReport(
        input_shapes=[tuple(a.shape) for a in args if isinstance(a, Tensor)])
    rows: Dict[int, LayerComplexity] = {}

    def count(module: nn.Module, args_in: Tuple[Any, ...], output: Any,
              name: str) -> None:
        if not isinstance(output, Tensor):
            return
        row = rows.get(id(module))
        if row is None:
            params, bits = _layer_storage(module)
            row = LayerComplexity(
                name=name,
                type=type(module).__name__,
                kind=layer_kind(module),
                output_shape=tuple(output.shape),
                params=params,
                weight_bits=bits)
            rows[id(module)] = row
            report.layers.append(row)
        macs = layer_macs(module, args_in, output)
        row.calls += 1
        row.macs += macs
        if row.kind == 'binary':
            row.bops += macs
        else:
            row.flops += macs

    layers = _counted_layers(model)
    modes = [(m, m.training) for m in model.modules()]
    ran: Set[int] = set()
    handles = [
        m.register_forward_hook(lambda m, i, o: ran.add(id(m)))
        for m in model.modules()
    ]
    try:
        for name, module in layers:
            handles.append(
                module.register_forward_hook(
                    lambda m, i, o, name=name: count(m, i, o, name)))
        model.eval()
        with torch.no_grad():
            call(*args, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
        for module, training in modes:
            module.training = training

    report.flops = sum(r.flops for r in report.layers)
    report.bops = sum(r.bops for r in report.layers)

    # Sizes from the parameters of the modules that ran, each counted once.
    binary_weights = {id(m.weight) for _, m in layers if has_binary_weight(m)}
    scale_bits = sum(FP_BITS * _out_channels(m) for _, m in layers
                     if has_binary_weight(m) and id(m) in ran)
    seen: Set[int] = set()
    params = [
        p for m in model.modules() if id(m) in ran
        for p in _unique_params(m, seen, recurse=False)
    ]
    report.params = sum(p.numel() for p in params)
    report.unused_params = sum(p.numel() for p in _unique_params(model, seen))
    report.size_fp32_bytes = report.params * FP_BITS // 8
    packed_bits = _param_bits(params, binary_weights) + scale_bits
    report.size_packed_bytes = math.ceil(packed_bits / 8)
    return report


def human_number(value: float, unit: str = '', base: int = 1000) -> str:
    """``1676279808 -> '1.68 G'``.

    Args:
        value (float): The number.
        unit (str): Appended after the prefix, e.g. ``'B'``.
        base (int): 1000 (decimal prefixes). Defaults to 1000.

    Returns:
        str: The number with two decimals and a k/M/G/T prefix.
    """
    prefixes = ('', 'k', 'M', 'G', 'T', 'P')
    magnitude = 0
    value = float(value)
    while abs(value) >= base and magnitude < len(prefixes) - 1:
        value /= base
        magnitude += 1
    if magnitude == 0 and value == int(value):
        text = f'{int(value)}'
    else:
        text = f'{value:.2f}'
    suffix = f'{prefixes[magnitude]}{unit}'
    return f'{text} {suffix}' if suffix else text


def _align(rows: List[List[str]], right: Sequence[bool]) -> List[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if r else cell.ljust(w)
            for cell, w, r in zip(row, widths, right)
        ]
        lines.append('  '.join(cells).rstrip())
    return lines


def format_table(report: ComplexityReport, top: Optional[int] = None) -> str:
    """An aligned text table of the layers followed by the totals.

    Args:
        report (ComplexityReport): From :func:`analyze_complexity`.
        top (int, optional): Show only the ``top`` layers with most OPs,
            most expensive first. Defaults to None: all layers in call
            order.

    Returns:
        str: The table.
    """
    layers = report.layers
    if top is not None:
        layers = sorted(layers, key=lambda r: r.ops, reverse=True)[:top]
    header = [
        'layer', 'type', 'kind', 'output shape', 'FLOPs', 'BOPs', 'OPs',
        'params', 'bits'
    ]
    rows = [header]
    for r in layers:
        rows.append([
            r.name or '(model)', r.type, r.kind,
            'x'.join(str(d) for d in r.output_shape),
            human_number(r.flops),
            human_number(r.bops),
            human_number(r.ops),
            human_number(r.params),
            human_number(r.weight_bits)
        ])
    lines = _align(rows, [False] * 4 + [True] * 5)
    rule = '-' * max(len(line) for line in lines)
    lines.insert(1, rule)
    if top is not None and len(report.layers) > len(layers):
        lines.append(f'... {len(report.layers) - len(layers)} more layers')
    lines.append(rule)
    shapes = ', '.join('x'.join(str(d) for d in s)
                       for s in report.input_shapes)
    totals = [
        ['input', shapes],
        ['layers', str(len(report.layers))],
        ['FLOPs', human_number(report.flops)],
        ['BOPs', human_number(report.bops)],
        ['OPs (BOPs/64 + FLOPs)',
         human_number(report.ops)],
        ['params', human_number(report.params)],
        ['params not run (not in sizes)',
         human_number(report.unused_params)],
        ['size fp32', human_number(report.size_fp32_bytes, 'B')],
        [
            'size packed (1-bit weights)',
            human_number(report.size_packed_bytes, 'B')
        ],
    ]
    lines.extend(_align(totals, [False, True]))
    return '\n'.join(lines)
