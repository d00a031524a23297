"""Compatibility patches for the dependency stack, in one place.

Problems of the pinned stack (torch 2.14, mmcv-lite 2.1.0, mmengine
0.10.7, mmsegmentation 1.2.2) are worked around here. Each patch is a
:class:`Patch`: a detection that tells whether the *installed* stack has the
problem, and the smallest change that solves it. ``import cmim_dense`` calls
:func:`apply_all`, which applies a patch only where its detection says so;
:func:`applied_patches` tells which were. Every patch is idempotent.

1. ``mmcv_ext_stub`` (:func:`install_mmcv_ext_stub`). ``mmcv-lite`` ships no
   compiled ops (``mmcv._ext``), yet mmseg imports :mod:`mmcv.ops` at module
   level in a few files, which makes 126 of its 187 modules fail to import.
   A stand-in ``mmcv._ext`` module is registered before mmseg is imported;
   it resolves every op name lazily and calling one raises
   :class:`MissingCompiledOpError` naming the op. Needed when mmcv is
   installed without a real ``mmcv._ext`` (:func:`mmcv_ext_stub_needed`).

2. ``mmengine_checkpoint_globals`` (:func:`allow_mmengine_checkpoint_globals`).
   torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine
   checkpoints pickle a few non-tensor objects (the message hub's
   ``HistoryBuffer`` and numpy arrays, dtypes and scalars), so ``--resume``,
   ``load_from`` and ``init_model`` fail with ``Unsupported global``. Exactly
   those globals are allow-listed with
   :func:`torch.serialization.add_safe_globals`; the ``weights_only``
   protection stays on for everything else. ``HistoryBuffer.__getstate__``
   also pickles its statistics methods, which pickle protocol 2 writes as
   ``getattr(HistoryBuffer, 'min')``; the builtin ``getattr`` is NOT
   allow-listed, a stand-in registered under its name resolves only those
   few ``HistoryBuffer`` attributes. Needed when torch has the allow-list and
   ``HistoryBuffer`` is not on it yet (:func:`checkpoint_globals_needed`).

3. ``name_refused_checkpoints`` (:func:`name_refused_checkpoints`). A
   checkpoint that ``weights_only=True`` refuses raises torch's
   ``UnpicklingError``, whose message names the global but not the file.
   :func:`torch.load` is wrapped so that this one error is re-raised as
   :class:`DisallowedCheckpointError` (a subclass of
   ``pickle.UnpicklingError``, the original chained) naming the file; every
   checkpoint path (our tools, mmengine's ``load_checkpoint``, mmseg's
   ``init_model``, ``init_cfg=dict(type='Pretrained')``) goes through
   ``torch.load``. Arguments pass unchanged and every other error
   propagates unchanged. Needed when torch has weights-only loading and
   ``torch.load`` is not wrapped yet (:func:`refused_checkpoint_naming_needed`).

4. ``cpu_distributed`` (:func:`enable_cpu_distributed`). mmengine 0.10.7
   cannot run distributed training on CPU (gloo): ``init_dist('pytorch')``
   always calls ``torch.cuda.set_device`` and the runner always passes
   ``device_ids=[LOCAL_RANK]`` to DDP. Both are made conditional on CUDA /
   the model really being on a GPU; GPU runs are unchanged. Each half is
   applied only when the installed mmengine's source still has the call
   (:func:`mmengine_needs_cpu_distributed_patch`,
   :func:`cpu_distributed_needed`).

The user documentation (``docs/compatibility.md``) lists each patch with the
upstream report it works around and when it can be removed.
"""
import functools
import importlib.machinery
import importlib.util
import os
import pickle
import sys
import types
from dataclasses import dataclass
from typing import Any, Callable, List, Tuple, Union

_EXT_NAME = 'mmcv._ext'


class MissingCompiledOpError(RuntimeError):
    """A compiled mmcv op was called but mmcv was installed without ops."""


class _MissingOp:
    """Callable placeholder for one compiled mmcv op."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise MissingCompiledOpError(
            f'mmcv compiled op "{self.__name__}" is not available: this '
            'environment has mmcv-lite (no compiled ops). Every cmim_dense '
            'model runs without it; to use a module that needs this op, '
            'install full mmcv 2.1.0 built with ops (see README, '
            '"Full mmcv").')

    def __repr__(self) -> str:
        return f'<missing mmcv op {self.__name__}>'


class _ExtStub(types.ModuleType):
    """Stand-in for ``mmcv._ext``: any public attribute is a missing op."""

    is_cmim_dense_stub = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith('__'):
            raise AttributeError(name)
        op = _MissingOp(name)
        setattr(self, name, op)
        return op


def has_compiled_mmcv_ops() -> bool:
    """Whether a real (compiled) ``mmcv._ext`` is importable."""
    module = sys.modules.get(_EXT_NAME)
    if module is not None:
        return not getattr(module, 'is_cmim_dense_stub', False)
    try:
        return importlib.util.find_spec(_EXT_NAME) is not None
    except ImportError:  # mmcv itself missing
        return False


def mmcv_ext_stub_needed() -> bool:
    """Whether mmcv is installed without compiled ops and no stand-in is
    registered yet (mmcv-lite)."""
    if _EXT_NAME in sys.modules:
        return False  # the real ops, or our stand-in, are loaded already
    try:
        has_mmcv = importlib.util.find_spec('mmcv') is not None
    except (ImportError, ValueError):  # pragma: no cover - broken install
        has_mmcv = False
    return has_mmcv and not has_compiled_mmcv_ops()


def install_mmcv_ext_stub() -> bool:
    """Register the ``mmcv._ext`` stand-in when compiled ops are missing.

    Returns:
        bool: True if the stand-in is (now) installed, False when real
        compiled ops are present and nothing was done.
    """
    if has_compiled_mmcv_ops():
        return False
    if _EXT_NAME not in sys.modules:
        stub = _ExtStub(
            _EXT_NAME, 'cmim_dense stand-in for mmcv compiled '
            'ops (mmcv-lite); calling an op raises '
            'MissingCompiledOpError.')
        stub.__spec__ = importlib.machinery.ModuleSpec(_EXT_NAME, None)
        sys.modules[_EXT_NAME] = stub
    return True


#: ``HistoryBuffer`` attributes an mmengine checkpoint may fetch by getattr.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Restricted ``getattr`` for ``torch.load(weights_only=True)``.

    Registered under the pickle names of the builtin ``getattr``. Pickle
    protocol 2 (torch's default) writes the methods that
    ``HistoryBuffer.__getstate__`` stores as ``getattr(HistoryBuffer,
    'min')``; only those are resolved, anything else is refused.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed by cmim_dense\'s '
        'weights_only allow-list (only HistoryBuffer statistics methods '
        'are).')


def _checkpoint_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The globals an mmengine 0.10.x checkpoint pickles besides tensors."""
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer
    try:  # numpy >= 2
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core import multiarray

    safe: List[Union[Callable, Tuple[Callable, str]]] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        # Protocol 2 spells the builtin module ``__builtin__``.
        (_history_buffer_getattr, '__builtin__.getattr'),
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    # Arrays and scalars are reduced to these two functions. Checkpoints
    # written under numpy 1.x name them ``numpy.core.multiarray.*``, under
    # numpy 2.x ``numpy._core.multiarray.*``: accept both spellings.
    for func in (multiarray._reconstruct, multiarray.scalar):
        for module in ('numpy.core.multiarray', 'numpy._core.multiarray'):
            safe.append((func, f'{module}.{func.__name__}'))
    # numpy >= 1.25 pickles dtypes by their class (numpy.dtypes.Float64DType).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in dir(dtypes):
            obj = getattr(dtypes, name)
            if isinstance(obj, type) and issubclass(obj, np.dtype):
                safe.append(obj)
    return safe


def checkpoint_globals_needed() -> bool:
    """Whether torch has a weights-only allow-list (torch >= 2.4, the default
    loader from 2.6) that does not hold mmengine's ``HistoryBuffer`` yet."""
    import torch
    serialization = torch.serialization
    if not hasattr(serialization, 'add_safe_globals'):
        return False
    from mmengine.logging.history_buffer import HistoryBuffer
    return HistoryBuffer not in serialization.get_safe_globals()


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list exactly what mmengine checkpoints need for ``weights_only``.

    Idempotent. Does nothing on torch versions without
    :func:`torch.serialization.add_safe_globals` (before 2.4, where
    ``weights_only`` loading did not exist as a default either). Needed
    whenever ``weights_only=True`` is in effect: torch >= 2.6 makes it the
    default of :func:`torch.load`, which mmengine 0.10.7 calls without the
    argument.
    """
    import torch
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # pragma: no cover - torch < 2.4
        return
    add(_checkpoint_globals())


class DisallowedCheckpointError(pickle.UnpicklingError):
    """``torch.load(weights_only=True)`` refused objects in a checkpoint."""


#: Start of torch's message when the weights-only unpickler refuses a file.
_WEIGHTS_ONLY_FAILED = 'Weights only load failed'
#: Reasons (of torch's weights-only unpickler and of
#: :func:`_history_buffer_getattr`) that mean a disallowed object, unlike
#: e.g. ``Unsupported operand`` (a corrupt file), which is left alone.
_DISALLOWED_REASONS = ('Unsupported global', 'unsupported GLOBAL',
                       'Can only build', 'Can only create new object',
                       'is not allowed by cmim_dense')


def _file_name(f: Any) -> str:
    """The path of what ``torch.load`` got (a path or a file object)."""
    if isinstance(f, (str, os.PathLike)):
        return os.fspath(f)
    return str(getattr(f, 'name', repr(f)))


def refused_checkpoint_naming_needed() -> bool:
    """Whether torch has weights-only loading (its allow-list) and
    ``torch.load`` is not wrapped by :func:`name_refused_checkpoints` yet."""
    import torch
    return hasattr(torch.serialization, 'add_safe_globals') and \
        not getattr(torch.load, '_cmim_dense', False)


def name_refused_checkpoints() -> None:
    """Make a refused ``weights_only`` load name the file (idempotent).

    Wraps :func:`torch.load`: when the weights-only unpickler refuses the
    file, :class:`DisallowedCheckpointError` is raised instead, with the
    file name and torch's reason (which names the disallowed global); the
    original error is chained. The allow-list and ``weights_only`` itself
    are not touched.
    """
    import torch
    if getattr(torch.load, '_cmim_dense', False):
        return
    torch_load = torch.load

    @functools.wraps(torch_load)
    def load(f: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return torch_load(f, *args, **kwargs)
        except pickle.UnpicklingError as err:
            text = str(err)
            if isinstance(err, DisallowedCheckpointError) or \
                    _WEIGHTS_ONLY_FAILED not in text or \
                    not any(r in text for r in _DISALLOWED_REASONS):
                raise
            reason = text.split('WeightsUnpickler error:', 1)[-1]
            reason = reason.split('\n\nCheck the documentation', 1)[0]
            raise DisallowedCheckpointError(
                f'{_file_name(f)}: refused to load this checkpoint: it '
                'contains disallowed objects (not plain weights nor an '
                'allow-listed mmengine object), so it may run arbitrary code '
                'when unpickled. Load it with weights_only=False only if you '
                f'trust its source. torch: {reason.strip()}') from err

    load._cmim_dense = True
    torch.load = load


def _source_calls(func: Callable, call: str) -> bool:
    """Whether ``call`` appears in the source of ``func`` (False if unknown)."""
    import inspect
    try:
        return call in inspect.getsource(func)
    except (OSError, TypeError):  # pragma: no cover - no source available
        return False


def mmengine_needs_cpu_distributed_patch() -> Tuple[bool, bool]:
    """Detect the two CPU-distributed problems in the installed mmengine.

    Returns:
        tuple[bool, bool]: Whether ``_init_dist_pytorch`` calls
        ``torch.cuda.set_device`` (it does unconditionally in 0.10.7, so a
        CPU-only machine fails before gloo is initialised), and whether the
        runner's ``wrap_model`` passes ``device_ids`` to DDP (which DDP
        refuses for a CPU module).
    """
    from mmengine.dist import utils as dist_utils
    from mmengine.runner import Runner
    launcher = getattr(dist_utils._init_dist_pytorch, '__wrapped__',
                       dist_utils._init_dist_pytorch)
    return (_source_calls(launcher, 'torch.cuda.set_device'),
            _source_calls(Runner.wrap_model, 'device_ids'))


def cpu_distributed_needed() -> bool:
    """Whether a half of :func:`enable_cpu_distributed` is needed (the
    installed mmengine has the call) and not applied yet."""
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import distributed as wrappers
    launcher, wrapper = mmengine_needs_cpu_distributed_patch()
    ddp_init = wrappers.MMDistributedDataParallel.__init__
    return (launcher and not getattr(dist_utils._init_dist_pytorch,
                                     '_cmim_dense', False)) or \
        (wrapper and not getattr(ddp_init, '_cmim_dense', False))


def enable_cpu_distributed() -> None:
    """Let mmengine's ``pytorch`` launcher and DDP wrapper run on CPU (gloo).

    Applied only where :func:`mmengine_needs_cpu_distributed_patch` finds
    the problem in the installed mmengine. Idempotent; changes nothing when
    CUDA is available (launcher) or when the wrapped module is on a GPU
    (wrapper).
    """
    import torch
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import distributed as wrappers

    patch_launcher, patch_wrapper = mmengine_needs_cpu_distributed_patch()
    if patch_launcher and not getattr(dist_utils._init_dist_pytorch,
                                      '_cmim_dense', False):
        init_on_gpu = dist_utils._init_dist_pytorch

        def _init_dist_pytorch(backend='nccl', init_backend='torch', **kw):
            if torch.cuda.is_available() or init_backend != 'torch':
                return init_on_gpu(backend, init_backend=init_backend, **kw)
            if backend == 'nccl':
                raise RuntimeError(
                    'distributed training without CUDA needs the gloo '
                    "backend: set env_cfg.dist_cfg.backend='gloo' (e.g. "
                    "--cfg-options env_cfg.dist_cfg.backend=gloo)")
            torch.distributed.init_process_group(backend=backend, **kw)

        _init_dist_pytorch._cmim_dense = True
        _init_dist_pytorch.__wrapped__ = init_on_gpu
        dist_utils._init_dist_pytorch = _init_dist_pytorch

    ddp = wrappers.MMDistributedDataParallel
    if patch_wrapper and not getattr(ddp.__init__, '_cmim_dense', False):
        ddp_init = ddp.__init__

        def __init__(self, module, detect_anomalous_params=False, **kwargs):
            params = list(module.parameters())
            if params and all(p.device.type == 'cpu' for p in params):
                kwargs['device_ids'] = None
                kwargs.pop('output_device', None)
            ddp_init(self, module, detect_anomalous_params, **kwargs)

        __init__._cmim_dense = True
        ddp.__init__ = __init__


@dataclass(frozen=True)
class Patch:
    """One compatibility patch: its name, detection and change.

    Attributes:
        name (str): Short name (the ``docs/compatibility.md`` table's).
        needed (callable): ``needed() -> bool``: whether the installed
            stack has the problem and the patch is not applied yet.
        apply (callable): ``apply()``: the change (idempotent).
    """

    name: str
    needed: Callable[[], bool]
    apply: Callable[[], Any]


#: Every patch, in the order they are applied (the stand-in for
#: ``mmcv._ext`` must precede any import of mmseg).
PATCHES = (
    Patch('mmcv_ext_stub', mmcv_ext_stub_needed, install_mmcv_ext_stub),
    Patch('mmengine_checkpoint_globals', checkpoint_globals_needed,
          allow_mmengine_checkpoint_globals),
    Patch('name_refused_checkpoints', refused_checkpoint_naming_needed,
          name_refused_checkpoints),
    Patch('cpu_distributed', cpu_distributed_needed, enable_cpu_distributed),
)

_APPLIED: List[str] = []


def apply_all() -> List[str]:
    """Apply every patch of :data:`PATCHES` that its detection asks for.

    Called by ``import cmim_dense``; calling it again applies nothing new.

    Returns:
        list[str]: Names of the patches applied by this call.
    """
    applied = []
    for patch in PATCHES:
        if patch.needed():
            patch.apply()
            applied.append(patch.name)
    _APPLIED.extend(name for name in applied if name not in _APPLIED)
    return applied


def applied_patches() -> List[str]:
    """Names of the patches applied in this process so far."""
    return list(_APPLIED)
