"""Checkpoints that are never left half-written."""
import os
import os.path as osp
from pathlib import Path
from typing import List, Optional, Union

from mmengine.dist import (broadcast_object_list, get_world_size,
                           is_main_process)
from mmengine.fileio import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook

from cmim_dense.registry import HOOKS
from ...utils.atomic_io import atomic_write, remove_temporaries

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


#: What :class:`AtomicCheckpointHook` does when a checkpoint cannot be
#: written: raise (``'stop'``) or log and go on training (``'continue'``).
SAVE_ERROR_POLICIES = ('stop', 'continue')


class CheckpointSaveError(OSError):
    """A checkpoint could not be written and ``on_save_error='stop'``."""


def _checkpoints_in(work_dir: str) -> List[str]:
    """The resumable checkpoints of ``work_dir`` (``*.pth`` but ``best_*``)."""
    if not osp.isdir(work_dir):
        return []
    return [
        osp.join(work_dir, name) for name in os.listdir(work_dir)
        if name.endswith('.pth') and not name.startswith('best_')
        and osp.isfile(osp.join(work_dir, name))
    ]


def repair_last_checkpoint(work_dir: str, logger=None) -> Optional[str]:
    """Make ``work_dir/last_checkpoint`` name a complete checkpoint.

    mmengine's ``--resume`` reads the one-line ``last_checkpoint`` pointer.
    An empty pointer (a process killed while writing it) or a dangling one
    (its checkpoint removed) is pointed at the newest complete checkpoint of
    the work directory, or removed when there is none. Temporary files of
    :func:`atomic_write` (``.NAME.*.tmp``) never count: only complete
    checkpoints carry a ``.pth`` name.

    Args:
        work_dir (str): The work directory.
        logger (logging.Logger, optional): Where to warn about a repair.

    Returns:
        str | None: The checkpoint the pointer names afterwards, None if
        there is no pointer.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer) as f:
        target = f.read().strip()
    if target and ('://' in target or osp.isfile(target)):
        return target
    candidates = _checkpoints_in(work_dir)
    if not candidates:
        os.remove(pointer)
        if logger is not None:
            logger.warning(
                f'AtomicCheckpointHook: removed {pointer}, which named '
                f'{target!r} (missing); no checkpoint to resume from.')
        return None
    newest = max(candidates, key=osp.getmtime)
    atomic_write(newest.encode(), pointer)
    if logger is not None:
        logger.warning(
            f'AtomicCheckpointHook: {pointer} named {target!r} (missing or '
            f'empty); it now names the newest checkpoint, {newest}.')
    return newest


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` writing checkpoints atomically.

    A drop-in replacement (same arguments, plus ``on_save_error``): when
    the checkpoints go to the local disk (no ``backend_args`` and no URI
    prefix in ``out_dir``), they are saved through
    :class:`AtomicLocalBackend`, so ``iter_*.pth``, ``epoch_*.pth`` and
    ``best_*.pth`` are either complete or absent. Other backends
    (``backend_args`` given, or ``s3://``-like ``out_dir``) are used as
    configured.

    Compared with mmengine's hook, a save:

    1. calls ``before_save_checkpoint_all_ranks(runner)`` on every hook
       that has it, on every rank (mmengine writes on rank 0 only; this is
       where :class:`RNGStateHook` gathers the other ranks' states);
    2. writes the checkpoint (rank 0), then the ``last_checkpoint`` pointer
       atomically, and only then removes the checkpoints beyond
       ``max_keep_ckpts`` (mmengine removes them first, so a failed write
       with ``max_keep_ckpts=1`` left no checkpoint at all);
    3. shares rank 0's outcome with every rank: if the write failed (disk
       full, quota, I/O error), the previous checkpoints and the pointer are
       untouched and every rank either raises :class:`CheckpointSaveError`
       naming the path (``on_save_error='stop'``) or logs it and trains on
       (``'continue'``).

    :meth:`before_run` (which runs before the runner resumes) removes the
    temporary files a killed write left in the work directory and points an
    empty or dangling ``last_checkpoint`` left by an older writer at the
    newest complete checkpoint (:func:`repair_last_checkpoint`).

    Args:
        on_save_error (str): ``'stop'`` (default) or ``'continue'``.
    """

    def __init__(self,
                 *args,
                 backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None,
                 on_save_error: str = 'stop',
                 **kwargs) -> None:
        if on_save_error not in SAVE_ERROR_POLICIES:
            raise ValueError(
                f'AtomicCheckpointHook: on_save_error must be one of '
                f'{SAVE_ERROR_POLICIES}, got {on_save_error!r}')
        self.on_save_error = on_save_error
        self.failed_saves = 0
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
        """Remove the temporary files of a killed run's writes and repair
        an empty or dangling ``last_checkpoint`` pointer."""
        super().before_run(runner)
        if is_main_process():
            for path in remove_temporaries(runner.work_dir):
                runner.logger.warning('AtomicCheckpointHook: removed '
                                      f'{path}, left by a killed write.')
            repair_last_checkpoint(runner.work_dir, runner.logger)

    def _remove_checkpoint(self, step: int) -> None:
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed's folders
            self.file_backend.rmtree(path)

    def _write(self, runner, filename: str, meta: dict) -> Optional[str]:
        """Rank 0 writes the checkpoint; every rank gets the error text
        (None if the write succeeded)."""
        error = None
        if is_main_process():
            try:
                runner.save_checkpoint(
                    self.out_dir,
                    filename,
                    self.file_client_args,
                    save_optimizer=self.save_optimizer,
                    save_param_scheduler=self.save_param_scheduler,
                    meta=meta,
                    by_epoch=self.by_epoch,
                    backend_args=self.backend_args,
                    **self.args)
            except OSError as err:  # disk full, quota, I/O error
                error = f'{type(err).__name__}: {err}'
        if get_world_size() > 1:
            shared = [error]
            broadcast_object_list(shared, src=0)
            error = shared[0]
        return error

    def _save_checkpoint_with_step(self, runner, step: int,
                                   meta: dict) -> None:
        """Gather, write, point, then prune (see the class docstring)."""
        for hook in runner.hooks:
            gather = getattr(hook, 'before_save_checkpoint_all_ranks', None)
            if callable(gather):
                gather(runner)
        filename = self.filename_tmpl.format(step)
        path = self.file_backend.join_path(self.out_dir, filename)
        error = self._write(runner, filename, meta)
        if error is not None:
            self.failed_saves += 1
            previous = self.last_ckpt or 'none'
            message = (f'AtomicCheckpointHook: could not write the checkpoint '
                       f'{path} ({error}). The previous checkpoint ({previous}'
                       ') and last_checkpoint are untouched.')
            if self.on_save_error == 'stop':
                raise CheckpointSaveError(
                    f'{message} Stopping (on_save_error="stop"); free space '
                    'or fix the disk, then resume with --resume.')
            runner.logger.error(f'{message} Training goes on '
                                '(on_save_error="continue").')
            return
        self.last_ckpt = path
        runner.message_hub.update_info('last_ckpt', path)
        if is_main_process():
            atomic_write(path.encode(),
                         osp.join(runner.work_dir, 'last_checkpoint'))
        if self.max_keep_ckpts > 0 and (not self.keep_ckpt_ids
                                        or self.keep_ckpt_ids[-1] != step):
            # a deque of maxlen max_keep_ckpts (before_train)
            if len(self.keep_ckpt_ids) >= self.max_keep_ckpts:
                old = self.keep_ckpt_ids.popleft()
                if is_main_process():
                    self._remove_checkpoint(old)
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
