"""Record activations of a model during one forward pass.

Two recorders share one contract: hooks exist only inside
:meth:`~HookRecorder.recording` and are removed on exit, also when the
forward pass raises; :meth:`~HookRecorder.get` returns the record of one
module and refuses a module that ran zero or several times;
:meth:`~HookRecorder.clear` drops the records (and the graphs they hold).

- :class:`ActivationRecorder` (CMIM's latent form): for every selected binary
  layer, a forward hook on its ``input_quantizer`` sees the latent FP
  activation ``a_F`` (the quantizer's input) and the binary activation
  ``a_B`` (its output) of the same forward pass; ``get`` returns
  ``(a_F, a_B)``.
- :class:`OutputRecorder` (CMIM's FP-teacher form, distillation): a forward
  hook on each named module records its output; ``get`` returns it.

Binary layers are named by dotted module paths or glob patterns on them
(``'backbone.layer*.*.conv2'``), or by the selector ``'last_per_stage'``:
the last binary layer (in registration order) of every stage. Modules of an
:class:`OutputRecorder` are named by dotted paths, glob patterns or the
selector ``'stages'``: the stage modules of the backbone.

Both selectors read the stages from the backbone's ``stage_names`` (the
names of its stage children, in forward order; see
:class:`~cmim_dense.models.backbones.BaseBinaryBackbone`), and refuse a
backbone without it: give such a model dotted paths or glob patterns, or
give its class a ``stage_names`` list.
"""
import contextlib
from fnmatch import fnmatchcase
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple, \
    Union

from torch import Tensor, nn

from ..layers.binary_layer import BinaryLayerMixin

LAST_PER_STAGE = 'last_per_stage'
STAGES = 'stages'


def _binary_layers(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    return [
        (name, m) for name, m in model.named_modules()
        if isinstance(m, BinaryLayerMixin) and m.input_quantizer is not None
    ]


def backbone_stage_names(model: nn.Module,
                         root: str = 'backbone',
                         selector: str = LAST_PER_STAGE) -> List[str]:
    """The ``stage_names`` of the backbone under ``root``.

    Args:
        model (nn.Module): The model.
        root (str): Dotted path of the backbone. Defaults to ``'backbone'``.
        selector (str): The selector asking, for the messages. Defaults to
            ``'last_per_stage'``.

    Returns:
        list[str]: The stage names (children of the backbone), in order.

    Raises:
        ValueError: No module at ``root``, no (or an empty) ``stage_names``
            on it, or a name that is not one of its children.
    """
    try:
        backbone = model.get_submodule(root)
    except AttributeError as err:
        raise ValueError(f'{selector!r}: the model has no {root!r} '
                         'module') from err
    names = getattr(backbone, 'stage_names', None)
    if not names or isinstance(names, str):
        raise ValueError(
            f'{selector!r}: {type(backbone).__name__} at {root!r} has no '
            'stage_names (the list of its stage modules\' names, in forward '
            'order); give the layers as dotted paths or glob patterns '
            f"(e.g. '{root}.layer*.*.conv2'), or set stage_names on the "
            f'backbone, got {names!r}')
    children = dict(backbone.named_children())
    unknown = [n for n in names if n not in children]
    if unknown:
        raise ValueError(f'{selector!r}: stage_names {unknown} of '
                         f'{type(backbone).__name__} at {root!r} are not '
                         f'children of it; children: {list(children)}')
    return list(names)


def last_binary_layer_per_stage(model: nn.Module,
                                root: str = 'backbone') -> List[str]:
    """Names of the last binary layer of each stage under ``root``.

    Args:
        model (nn.Module): The model.
        root (str): Dotted path of the backbone, whose ``stage_names`` name
            the stages. Defaults to ``'backbone'``.

    Returns:
        list[str]: One name per stage that has binary layers, in the order
        of ``stage_names``.

    Raises:
        ValueError: The backbone has no valid ``stage_names`` (see
            :func:`backbone_stage_names`).
    """
    stages = backbone_stage_names(model, root, LAST_PER_STAGE)
    prefix = f'{root}.' if root else ''
    last: Dict[str, str] = {}
    for name, _ in _binary_layers(model):
        if not name.startswith(prefix):
            continue
        stage = name[len(prefix):].split('.', 1)[0]
        if stage in stages:
            last[stage] = name  # later layers of the stage overwrite
    return [last[s] for s in stages if s in last]


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


def backbone_stages(model: nn.Module, root: str = 'backbone') -> List[str]:
    """Dotted paths of the stage modules of the backbone under ``root``.

    Args:
        model (nn.Module): The model.
        root (str): Dotted path of the backbone. Defaults to ``'backbone'``.

    Returns:
        list[str]: ``['backbone.layer1', ...]``, in the order of the
        backbone's ``stage_names``.

    Raises:
        ValueError: No such module, or it has no valid ``stage_names`` (see
            :func:`backbone_stage_names`).
    """
    return [f'{root}.{n}' for n in backbone_stage_names(model, root, STAGES)]


def resolve_modules(model: nn.Module,
                    modules: Union[str, Sequence[str]]) -> List[str]:
    """Resolve module paths, glob patterns and ``'stages'`` to module names.

    Args:
        model (nn.Module): The model.
        modules (str | Sequence[str]): Names / patterns / the selector.

    Returns:
        list[str]: Module names in the given order (a pattern's matches in
        registration order), no duplicate.

    Raises:
        ValueError: No module given, or a name / pattern that matches none.
    """
    if isinstance(modules, str):
        modules = [modules]
    if not modules:
        raise ValueError('no module to record: give dotted paths, glob '
                         f'patterns or {STAGES!r}')
    names = [n for n, _ in model.named_modules() if n]
    chosen: List[str] = []
    for pattern in modules:
        if pattern == STAGES:
            matched = backbone_stages(model)
        elif pattern in names:
            matched = [pattern]
        else:
            matched = [n for n in names if fnmatchcase(n, pattern)]
        if not matched:
            raise ValueError(f'module {pattern!r} matches no module of '
                             f'{type(model).__name__}; top-level modules: '
                             f'{[n for n, _ in model.named_children()]}')
        chosen.extend(n for n in matched if n not in chosen)
    return chosen


class HookRecorder:
    """Forward hooks on named modules, scoped by :meth:`recording`.

    Subclasses set ``self.names`` and ``self._hooked`` (name -> module to
    hook) and implement :meth:`_record` (what one call leaves behind).

    Args:
        transform (callable, optional): Applied to the recorded tensors
            inside the hook (with gradient), e.g. global pooling, so that
            only its (small) result is kept alive until the loss is computed
            instead of the full maps. Defaults to None (keep them).
    """

    def __init__(
            self,
            transform: Optional[Callable[[Tensor], Tensor]] = None) -> None:
        self.transform = transform
        self.names: List[str] = []
        self._hooked: Dict[str, nn.Module] = {}
        self._records: Dict[str, list] = {}
        self._handles: list = []

    @property
    def active(self) -> bool:
        """Whether hooks are registered (inside :meth:`recording`)."""
        return bool(self._handles)

    @contextlib.contextmanager
    def recording(self) -> Iterator['HookRecorder']:
        """Register the hooks, clear the records; remove the hooks on exit."""
        if self.active:
            raise RuntimeError(f'{type(self).__name__}.recording() is not '
                               're-entrant')
        self._records = {name: [] for name in self.names}
        for name, module in self._hooked.items():
            self._handles.append(
                module.register_forward_hook(self._hook(name)))
        try:
            yield self
        finally:
            for handle in self._handles:
                handle.remove()
            self._handles = []

    def _apply_transform(self, x: Tensor) -> Tensor:
        return x if self.transform is None else self.transform(x)

    def _record(self, args: Tuple[Tensor, ...], output: Tensor):
        raise NotImplementedError

    def _hook(self, name: str):

        def hook(module: nn.Module, args: Tuple[Tensor, ...],
                 output: Tensor) -> None:
            self._records[name].append(self._record(args, output))

        return hook

    def get(self, name: str):
        """The record of one module from the last recording.

        Raises:
            RuntimeError: If the module ran zero or several times.
        """
        calls = self._records.get(name, [])
        if len(calls) != 1:
            raise RuntimeError(
                f'{name!r} ran {len(calls)} times in the recorded '
                'forward pass; the recorder expects exactly one call')
        return calls[0]

    def clear(self) -> None:
        """Drop the recorded tensors (and the graphs they hold)."""
        self._records = {}


class ActivationRecorder(HookRecorder):
    """Records ``(a_F, a_B)`` of binary layers during a forward pass.

    Args:
        model (nn.Module): The model whose layers are recorded.
        layers (str | Sequence[str]): Layer names, glob patterns or
            ``'last_per_stage'``; resolved once, at construction.
        transform (callable, optional): Applied to both activations inside
            the hook (with gradient), e.g. global pooling. Defaults to None
            (keep the maps).

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
        super().__init__(transform)
        self.names = resolve_layers(model, layers)
        self._hooked = {
            name: model.get_submodule(name).input_quantizer
            for name in self.names
        }

    def _record(self, args: Tuple[Tensor, ...],
                output: Tensor) -> Tuple[Tensor, Tensor]:
        return self._apply_transform(args[0]), self._apply_transform(output)

    def get(self, name: str) -> Tuple[Tensor, Tensor]:
        """``(a_F, a_B)`` of one layer from the last recording.

        Raises:
            RuntimeError: If the layer ran zero or several times.
        """
        return super().get(name)


class OutputRecorder(HookRecorder):
    """Records the outputs of named modules during a forward pass.

    Args:
        model (nn.Module): The model whose modules are recorded.
        modules (str | Sequence[str]): Dotted paths, glob patterns or
            ``'stages'``; resolved once, at construction.
        transform (callable, optional): Applied to each output inside the
            hook. Defaults to None (keep the outputs).

    Example:
        >>> recorder = OutputRecorder(model, 'stages')
        >>> with recorder.recording():
        ...     model(inputs, mode='tensor')
        >>> stage4 = recorder.get('backbone.layer4')
    """

    def __init__(
            self,
            model: nn.Module,
            modules: Union[str, Sequence[str]],
            transform: Optional[Callable[[Tensor], Tensor]] = None) -> None:
        super().__init__(transform)
        self.names = resolve_modules(model, modules)
        self._hooked = {name: model.get_submodule(name) for name in self.names}

    def _record(self, args: Tuple[Tensor, ...], output: Tensor) -> Tensor:
        if not isinstance(output, Tensor):
            raise TypeError(
                f'OutputRecorder records tensors; a recorded module returned '
                f'a {type(output).__name__} (record one of its submodules)')
        return self._apply_transform(output)
