"""Record the latent and binary activations of binary layers.

For every selected binary layer, a forward hook on its ``input_quantizer``
sees the latent FP activation ``a_F`` (the quantizer's input) and the binary
activation ``a_B`` (its output) of the same forward pass. The hooks exist
only inside :meth:`ActivationRecorder.recording` and are removed on exit,
also when the forward pass raises.

Layers are named by dotted module paths or glob patterns on them
(``'backbone.layer*.*.conv2'``), or by the selector ``'last_per_stage'``:
the last binary layer (in registration order) of every stage, a stage being
a child of ``backbone`` whose name starts with ``layer``/``stage``.
"""
import contextlib
from fnmatch import fnmatchcase
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, \
    Union

from torch import Tensor, nn

from ..layers.binary_layer import BinaryLayerMixin

LAST_PER_STAGE = 'last_per_stage'
STAGE_PREFIXES = ('layer', 'stage')


def _binary_layers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    return [
        (name, m) for name, m in model.named_modules()
        if isinstance(m, BinaryLayerMixin) and m.input_quantizer is not None
    ]


def last_binary_layer_per_stage(model: nn.Module,
                                root: str = 'backbone') -> List[str]:
    """Names of the last binary layer of each stage under ``root``.

    Args:
        model (nn.Module): The model.
        root (str): Dotted path of the module holding the stages.
            Defaults to ``'backbone'``.

    Returns:
        list[str]: One name per stage that has binary layers, in order.
    """
    prefix = f'{root}.' if root else ''
    last: Dict[str, str] = {}
    for name, _ in _binary_layers(model):
        if not name.startswith(prefix):
            continue
        stage = name[len(prefix):].split('.', 1)[0]
        if stage.startswith(STAGE_PREFIXES):
            last[stage] = name  # later layers of the stage overwrite
    return list(last.values())


def resolve_layers(model: nn.Module,
                   layers: Union[str, Sequence[str]]) -> List[str]:
    """Resolve names, glob patterns and ``'last_per_stage'`` to layer names.

    Args:
        model (nn.Module): The model.
        layers (str | Sequence[str]): Names / patterns / the selector.

    Returns:
        list[str]: Binary layer names in registration order, no duplicate.

    Raises:
        ValueError: A pattern that matches nothing, or a name that is not a
            binary layer with an input quantizer.
    """
    if isinstance(layers, str):
        layers = [layers]
    if not layers:
        raise ValueError('no layer to record: give names, glob patterns or '
                         f'{LAST_PER_STAGE!r}')
    binary = [name for name, _ in _binary_layers(model)]
    modules = dict(model.named_modules())
    chosen = set()
    for pattern in layers:
        if pattern == LAST_PER_STAGE:
            matched = last_binary_layer_per_stage(model)
        elif pattern in modules and pattern not in binary:
            raise ValueError(
                f'layer {pattern!r} is a {type(modules[pattern]).__name__}, '
                'not a binary layer with an input quantizer: CMIM records '
                "the input quantizer's input (latent) and output (binary)")
        else:
            matched = [n for n in binary if fnmatchcase(n, pattern)]
        if not matched:
            raise ValueError(
                f'layer pattern {pattern!r} matches no binary layer; binary '
                f'layers are: {binary[:12]}'
                f'{" ..." if len(binary) > 12 else ""}')
        chosen.update(matched)
    return [n for n in binary if n in chosen]


class ActivationRecorder:
    """Records ``(a_F, a_B)`` of binary layers during a forward pass.

    Args:
        model (nn.Module): The model whose layers are recorded.
        layers (str | Sequence[str]): Layer names, glob patterns or
            ``'last_per_stage'``; resolved once, at construction.
        transform (callable, optional): Applied to both activations inside
            the hook (with gradient), e.g. global pooling, so that only its
            (small) result is kept alive until the loss is computed instead
            of the full activation maps. Defaults to None (keep them).

    Example:
        >>> recorder = ActivationRecorder(model, 'backbone.layer4.*.conv2')
        >>> with recorder.recording():
        ...     losses = model.loss(inputs, data_samples)
        >>> latent, binary = recorder.get('backbone.layer4.1.conv2')
    """

    def __init__(
            self,
            model: nn.Module,
            layers: Union[str, Sequence[str]],
            transform: Optional[Callable[[Tensor], Tensor]] = None) -> None:
        self.names = resolve_layers(model, layers)
        self.transform = transform
        self._quantizers = {
            name: model.get_submodule(name).input_quantizer
            for name in self.names
        }
        self._records: Dict[str, List[Tuple[Tensor, Tensor]]] = {}
        self._handles: list = []

    @property
    def active(self) -> bool:
        """Whether hooks are registered (inside :meth:`recording`)."""
        return bool(self._handles)

    @contextlib.contextmanager
    def recording(self) -> Iterator['ActivationRecorder']:
        """Register the hooks, clear the records; remove the hooks on exit."""
        if self.active:
            raise RuntimeError('ActivationRecorder.recording() is not '
                               're-entrant')
        self._records = {name: [] for name in self.names}
        for name, quantizer in self._quantizers.items():
            self._handles.append(
                quantizer.register_forward_hook(self._hook(name)))
        try:
            yield self
        finally:
            for handle in self._handles:
                handle.remove()
            self._handles = []

    def _hook(self, name: str):

        def hook(module: nn.Module, args: Tuple[Tensor, ...],
                 output: Tensor) -> None:
            latent, binary = args[0], output
            if self.transform is not None:
                latent, binary = self.transform(latent), self.transform(binary)
            self._records[name].append((latent, binary))

        return hook

    def get(self, name: str) -> Tuple[Tensor, Tensor]:
        """``(a_F, a_B)`` of one layer from the last recording.

        Raises:
            RuntimeError: If the layer ran zero or several times.
        """
        calls = self._records.get(name, [])
        if len(calls) != 1:
            raise RuntimeError(
                f'layer {name!r} ran {len(calls)} times in the recorded '
                'forward pass; the recorder expects exactly one call')
        return calls[0]

    def clear(self) -> None:
        """Drop the recorded tensors (and the graphs they hold)."""
        self._records = {}
