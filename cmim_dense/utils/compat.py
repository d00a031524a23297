"""Compatibility shims for the dependency stack, in one place.

Two problems of the pinned stack (torch 2.14, mmcv-lite 2.1.0, mmengine
0.10.7, mmsegmentation 1.2.2) are solved here, each by a function that is
idempotent and called once by ``import cmim_dense``:

1. :func:`install_mmcv_ext_stub`. ``mmcv-lite`` ships no compiled ops
   (``mmcv._ext``), yet mmseg imports :mod:`mmcv.ops` at module level in a few
   files, which makes 126 of its 187 modules fail to import. A stand-in
   ``mmcv._ext`` module is registered before mmseg is imported. It resolves
   every op name lazily; calling one raises :class:`MissingCompiledOpError`
   naming the op. Nothing is done when a real ``mmcv._ext`` is installed
   (full mmcv built with ops).

2. :func:`allow_mmengine_checkpoint_globals`. torch >= 2.6 loads with
   ``weights_only=True`` by default, and mmengine checkpoints pickle a few
   non-tensor objects (the message hub's ``HistoryBuffer`` and numpy arrays,
   dtypes and scalars), so ``--resume``, ``load_from`` and ``init_model``
   fail with ``Unsupported global``. Exactly those globals are allow-listed
   with :func:`torch.serialization.add_safe_globals`; the ``weights_only``
   protection stays on for everything else.
"""
import importlib.machinery
import importlib.util
import sys
import types
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


def install_mmcv_ext_stub() -> bool:
    """Register the ``mmcv._ext`` stand-in when compiled ops are missing.

    Returns:
        bool: True if the stand-in is (now) installed, False when real
        compiled ops are present and nothing was done.
    """
    if has_compiled_mmcv_ops():
        return False
    if _EXT_NAME not in sys.modules:
        stub = _ExtStub(_EXT_NAME, 'cmim_dense stand-in for mmcv compiled '
                        'ops (mmcv-lite); calling an op raises '
                        'MissingCompiledOpError.')
        stub.__spec__ = importlib.machinery.ModuleSpec(_EXT_NAME, None)
        sys.modules[_EXT_NAME] = stub
    return True


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


def allow_mmengine_checkpoint_globals() -> None:
    """Allow-list exactly what mmengine checkpoints need for ``weights_only``.

    Idempotent. Does nothing on torch versions without
    :func:`torch.serialization.add_safe_globals`.
    """
    import torch
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is None:  # pragma: no cover - torch < 2.4
        return
    add(_checkpoint_globals())


def apply_all() -> None:
    """Apply every shim (called by ``import cmim_dense``)."""
    install_mmcv_ext_stub()
    allow_mmengine_checkpoint_globals()
