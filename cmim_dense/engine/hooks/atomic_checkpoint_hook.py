"""Checkpoints that are never left half-written."""
import os
import os.path as osp
from pathlib import Path
from typing import Optional, Union

from mmengine.fileio import LocalBackend, register_backend
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from cmim_dense.registry import HOOKS
from ...utils.atomic_io import atomic_write

ATOMIC_BACKEND = 'cmim_dense_atomic_local'


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put`` and ``put_text``.

    mmengine's :func:`~mmengine.runner.save_checkpoint` serializes the
    checkpoint to memory, then hands the bytes to the file backend's
    ``put``; :class:`~mmengine.fileio.LocalBackend` writes them in place,
    so a process killed mid-write leaves a truncated ``.pth``. This backend
    writes through :func:`atomic_write` instead.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write ``obj`` to ``filepath`` atomically."""
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Write the text ``obj`` to ``filepath`` atomically."""
        atomic_write(obj.encode(encoding), filepath)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` writing checkpoints atomically.

    A drop-in replacement (same arguments): when the checkpoints go to the
    local disk (no ``backend_args`` and no URI prefix in ``out_dir``), they
    are saved through :class:`AtomicLocalBackend`, so ``iter_*.pth``,
    ``epoch_*.pth`` and ``best_*.pth`` are either complete or absent, and a
    failed save leaves the previous checkpoints intact. Other backends
    (``backend_args`` given, or ``s3://``-like ``out_dir``) are used as
    configured.

    mmengine writes the one-line ``last_checkpoint`` pointer with a plain
    ``open``, after the checkpoint it names is complete. A process killed
    while writing it leaves an empty pointer, which would make ``--resume``
    fail; :meth:`before_run` (which runs before the runner resumes) points
    an empty or dangling ``last_checkpoint`` at the newest complete
    checkpoint of the work directory instead.
    """

    def __init__(self,
                 *args,
                 backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None,
                 **kwargs) -> None:
        self.atomic = backend_args is None and file_client_args is None
        if self.atomic:
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(
            *args,
            backend_args=backend_args,
            file_client_args=file_client_args,
            **kwargs)

    def before_train(self, runner) -> None:
        out_dir = self.out_dir if self.out_dir is not None else \
            runner.work_dir
        if self.atomic and '://' in str(out_dir):  # a remote out_dir
            self.atomic = False
            self.backend_args = None
        super().before_train(runner)

    def before_run(self, runner) -> None:
        """Repair an empty or dangling ``last_checkpoint`` pointer."""
        super().before_run(runner)
        if not is_main_process():
            return
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(pointer):
            return
        with open(pointer) as f:
            target = f.read().strip()
        if target and ('://' in target or osp.isfile(target)):
            return
        candidates = [
            osp.join(runner.work_dir, name)
            for name in os.listdir(runner.work_dir)
            if name.endswith('.pth') and not name.startswith('best_')
        ]
        if not candidates:
            os.remove(pointer)
            runner.logger.warning(
                f'AtomicCheckpointHook: removed {pointer}, which named '
                f'{target!r} (missing); no checkpoint to resume from.')
            return
        newest = max(candidates, key=osp.getmtime)
        atomic_write(newest.encode(), pointer)
        runner.logger.warning(
            f'AtomicCheckpointHook: {pointer} named {target!r} (missing or '
            f'empty); it now names the newest checkpoint, {newest}.')
