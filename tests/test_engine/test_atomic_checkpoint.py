"""Atomic writes: a failed save leaves the previous file and no partial
one."""
import os
from pathlib import Path

import pytest
import torch
from mmengine.fileio import get_file_backend
from mmengine.runner.checkpoint import save_checkpoint

from cmim_dense.engine import AtomicCheckpointHook
from cmim_dense.engine.hooks.atomic_checkpoint_hook import AtomicLocalBackend
from cmim_dense.engine.hooks.atomic_checkpoint_hook import (ATOMIC_BACKEND,
                                                            atomic_write)


def _fail(*args, **kwargs) -> None:
    raise OSError('No space left on device (simulated)')


def test_atomic_write_replaces(tmp_path: Path) -> None:
    path = tmp_path / 'sub' / 'f.bin'
    atomic_write(b'one', path)
    atomic_write(b'two', path)
    assert path.read_bytes() == b'two'
    assert os.listdir(path.parent) == ['f.bin']


@pytest.mark.parametrize('where', ['fsync', 'replace'])
def test_failed_save_keeps_previous_checkpoint(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               where: str) -> None:
    """mmengine's ``save_checkpoint`` through the atomic backend: a failure
    while writing (after the bytes went to disk, or at the rename) leaves
    the previous checkpoint loadable and no temporary file."""
    path = tmp_path / 'iter_2.pth'
    backend_args = dict(backend=ATOMIC_BACKEND)
    assert isinstance(
        get_file_backend(str(path), backend_args=backend_args),
        AtomicLocalBackend)
    save_checkpoint(
        dict(w=torch.zeros(3)), str(path), backend_args=backend_args)
    monkeypatch.setattr(os, where, _fail)
    with pytest.raises(OSError, match='simulated'):
        save_checkpoint(
            dict(w=torch.ones(1000)), str(path), backend_args=backend_args)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ['iter_2.pth']
    assert torch.equal(
        torch.load(path, weights_only=True)['w'], torch.zeros(3))


def test_hook_uses_atomic_backend_for_local_dirs() -> None:
    assert AtomicCheckpointHook(interval=1).backend_args == dict(
        backend=ATOMIC_BACKEND)
    explicit = dict(backend='local')
    hook = AtomicCheckpointHook(interval=1, backend_args=explicit)
    assert hook.backend_args == explicit and not hook.atomic


class _Runner:
    """What ``AtomicCheckpointHook.before_run`` reads of a runner."""

    def __init__(self, work_dir: Path) -> None:
        from mmengine.logging import MMLogger
        self.work_dir = str(work_dir)
        self.logger = MMLogger.get_current_instance()


@pytest.mark.parametrize('content', ['', 'missing'])
def test_torn_last_checkpoint_is_repaired(tmp_path: Path,
                                          content: str) -> None:
    """An empty (killed while writing) or dangling ``last_checkpoint`` is
    pointed at the newest checkpoint before the runner resumes."""
    old, new = tmp_path / 'iter_2.pth', tmp_path / 'iter_4.pth'
    old.write_bytes(b'2')
    new.write_bytes(b'4')
    os.utime(old, (1, 1))
    pointer = tmp_path / 'last_checkpoint'
    pointer.write_text(str(tmp_path / content) if content else '')
    AtomicCheckpointHook(interval=1).before_run(_Runner(tmp_path))
    assert pointer.read_text() == str(new)
    # A valid pointer is left alone.
    pointer.write_text(str(old))
    AtomicCheckpointHook(interval=1).before_run(_Runner(tmp_path))
    assert pointer.read_text() == str(old)


def test_temporaries_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    """A SIGKILL between ``mkstemp`` and the rename leaves ``.NAME.*.tmp``;
    ``before_run`` removes it (and only it) before resuming."""
    from cmim_dense.utils.atomic_io import remove_temporaries
    (tmp_path / 'iter_2.pth').write_bytes(b'2')
    (tmp_path / 'notes.tmp').write_bytes(b'not ours: no leading dot')
    torn = tmp_path / '.last_checkpoint.ab12cd.tmp'
    torn.write_bytes(b'/half')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_2.pth'))
    AtomicCheckpointHook(interval=1).before_run(_Runner(tmp_path))
    assert sorted(os.listdir(tmp_path)) == [
        'iter_2.pth', 'last_checkpoint', 'notes.tmp'
    ]
    assert remove_temporaries(tmp_path / 'missing') == []
