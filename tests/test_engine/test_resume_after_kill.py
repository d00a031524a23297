"""Kill ``tools/train.py`` after a checkpoint, resume, compare the losses.

The tiny CMIM config with a memory bank (``tiny_seg_cmim_resume.py``:
deterministic mode, checkpoint every 3 iterations, 8 iterations) is trained
once without interruption, and once SIGKILLed as soon as ``iter_3.pth``
exists, then resumed with ``--resume``. Every logged loss term of every
iteration after the resumed checkpoint must be exactly equal, which needs
the optimizer, LR schedule, binarizer schedules, CMIM memory banks, RNG
state and data order to be restored. The uninterrupted run and the killed
run (before the kill) also give the determinism check: same seed, same
losses.
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAIN = REPO_ROOT / 'tools' / 'train.py'
CONFIG = REPO_ROOT / 'tests' / 'data' / 'configs' / 'tiny_seg_cmim_resume.py'
MAX_ITERS = 8
KILL_AFTER = 3  # the checkpoint interval of the config
TIMEOUT_S = 120


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get('PYTHONPATH', '')) if p)
    env['OMP_NUM_THREADS'] = '1'
    env.pop('LOCAL_RANK', None)
    return env


def _command(work_dir: Path, data_root: Path, *extra: str) -> List[str]:
    options = [
        f'{loader}.dataset.data_root={data_root}'
        for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]
    return [
        sys.executable,
        str(TRAIN),
        str(CONFIG), '--work-dir',
        str(work_dir), *extra, '--cfg-options', *options
    ]


def _train(cmd: List[str], cwd: Path) -> None:
    proc = subprocess.run(
        cmd,
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S)
    assert proc.returncode == 0, (f'train.py failed ({proc.returncode}):\n'
                                  f'{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-3000:]}')


def _recorded(checkpoint: Path) -> bool:
    """Whether ``checkpoint`` exists and mmengine's ``last_checkpoint`` (what
    ``--resume`` reads, written just after the checkpoint) names it."""
    record = checkpoint.parent / 'last_checkpoint'
    try:
        return checkpoint.exists() and record.read_text().strip().endswith(
            checkpoint.name)
    except OSError:
        return False


def _train_and_kill(cmd: List[str], cwd: Path, checkpoint: Path) -> int:
    """Start training, SIGKILL it once ``checkpoint`` is recorded as the last
    one; return rc."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while not _recorded(checkpoint):
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _losses(work_dir: Path) -> List[Dict[int, dict]]:
    """Per run folder (oldest first): step -> loss terms of that step."""
    runs = []
    for run in sorted(p for p in work_dir.iterdir()
                      if p.is_dir() and p.name[:8].isdigit()):
        path = run / 'vis_data' / 'scalars.json'
        steps = {}
        if path.is_file():
            for line in path.read_text().splitlines():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:  # a line cut by the kill
                    continue
                if 'loss' in record:
                    steps[record['step']] = {
                        k: v
                        for k, v in record.items()
                        if 'loss' in k or k.startswith('cmim_') or k == 'lr'
                    }
        runs.append(steps)
    return runs


@pytest.fixture(scope='module')
def runs(tmp_path_factory: pytest.TempPathFactory,
         tiny_seg_dataset) -> Dict[str, object]:
    """An uninterrupted run, and a run killed after iter 3 then resumed."""
    tmp = tmp_path_factory.mktemp('resume')
    data_root = tiny_seg_dataset.make(tmp / 'data')
    full_dir, killed_dir = tmp / 'full', tmp / 'killed'
    _train(_command(full_dir, data_root), tmp)
    rc = _train_and_kill(
        _command(killed_dir, data_root), tmp,
        killed_dir / f'iter_{KILL_AFTER}.pth')
    checkpoints = sorted(p.name for p in killed_dir.glob('*.pth'))
    _train(_command(killed_dir, data_root, '--resume'), tmp)
    return dict(
        rc=rc,
        checkpoints=checkpoints,
        killed_dir=killed_dir,
        full=_losses(full_dir),
        killed=_losses(killed_dir))


def test_kill_left_complete_checkpoints(runs: Dict[str, object]) -> None:
    """The run was really killed mid-training, and only complete
    checkpoints (no temporary files) were left."""
    assert runs['rc'] == -signal.SIGKILL, 'the run was not killed'
    assert f'iter_{MAX_ITERS}.pth' not in runs['checkpoints']
    leftovers = [
        p.name for p in runs['killed_dir'].iterdir() if p.name.endswith('.tmp')
    ]
    assert leftovers == []


def test_resumed_losses_equal_uninterrupted(runs: Dict[str, object]) -> None:
    """After ``--resume`` every loss term equals the uninterrupted run's."""
    (full, ) = runs['full']
    killed, resumed = runs['killed']
    assert sorted(full) == list(range(1, MAX_ITERS + 1))
    first = min(resumed)
    assert first > KILL_AFTER and first - 1 in killed, \
        'the resumed run did not start from a checkpoint of the killed run'
    assert sorted(resumed) == list(range(first, MAX_ITERS + 1))
    for step in resumed:
        assert resumed[step] == full[step], f'iteration {step} differs'


def test_same_seed_same_losses(runs: Dict[str, object]) -> None:
    """Determinism: two runs with the same seed (the uninterrupted one and
    the killed one, before the kill) log identical losses."""
    (full, ) = runs['full']
    killed = runs['killed'][0]
    assert len(killed) >= KILL_AFTER
    for step in killed:
        assert killed[step] == full[step], f'iteration {step} differs'
