"""Real training processes for the reliability scenarios (helpers).

``tools/train.py`` (single process) and ``tools/dist_train.sh`` (torchrun,
2 gloo ranks) run ``configs/tiny_reliable.py`` on the toy dataset; the
tests interrupt them (signals, SIGKILL, a failing disk) and compare the
final checkpoint with the one of an uninterrupted run, bit for bit.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch

import cmim_dense  # noqa: F401  (the checkpoint allow-list for torch.load)

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
TRAIN = REPO_ROOT / 'tools' / 'train.py'
DIST_TRAIN = REPO_ROOT / 'tools' / 'dist_train.sh'
CONFIGS = HERE / 'configs'
CONFIG = CONFIGS / 'tiny_reliable.py'
MAX_ITERS = 10  # of tiny_reliable.py
TIMEOUT_S = 240
#: The single-process runs use data workers (the configs use 2-4).
WORKERS = ('train_dataloader.num_workers=2',
           'train_dataloader.persistent_workers=True')
SEED = ('randomness.seed=0', )


def env() -> Dict[str, str]:
    """The environment of a training process: this checkout and
    ``fault_hooks.py`` importable, one intra-op thread."""
    out = dict(os.environ, OMP_NUM_THREADS='1')
    out['PYTHONPATH'] = os.pathsep.join(
        [str(REPO_ROOT), str(HERE)] +
        ([out['PYTHONPATH']] if out.get('PYTHONPATH') else []))
    for key in ('LOCAL_RANK', 'RANK', 'WORLD_SIZE', 'MASTER_PORT'):
        out.pop(key, None)
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def command(work_dir: Path,
            data_root: Path,
            *options: str,
            config: Path = CONFIG,
            resume: bool = False,
            ranks: int = 1) -> List[str]:
    """``tools/train.py`` (``ranks=1``) or ``tools/dist_train.sh`` (2)."""
    options = (f'train_dataloader.dataset.data_root={data_root}',
               f'test_dataloader.dataset.data_root={data_root}') + options
    args = [str(config), '--work-dir', str(work_dir)]
    args += ['--resume'] if resume else []
    args += ['--cfg-options', *options]
    if ranks == 1:
        return [sys.executable, str(TRAIN), *args]
    return ['bash', str(DIST_TRAIN), args[0], str(ranks), *args[1:]]


def dist_env() -> Dict[str, str]:
    return dict(env(), PYTHON=sys.executable, PORT=str(free_port()))


def run(cmd: Sequence[str],
        expect: Optional[int] = 0,
        log: Optional[Path] = None) -> subprocess.CompletedProcess:
    """Run to the end; check the exit code (unless ``expect`` is None)."""
    proc = subprocess.run(
        list(cmd),
        env=dist_env() if cmd[0] == 'bash' else env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S)
    if log is not None:
        log.write_text(proc.stdout + proc.stderr)
    if expect is not None:
        assert proc.returncode == expect, (
            f'{" ".join(cmd)} exited with {proc.returncode}, expected '
            f'{expect}:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


def start(cmd: Sequence[str], log: Path) -> subprocess.Popen:
    """Start in a new session (its own process group, as a job)."""
    with open(log, 'w') as out:
        return subprocess.Popen(
            list(cmd),
            env=dist_env() if cmd[0] == 'bash' else env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True)


def logged_steps(work_dir: Path) -> List[int]:
    """Iterations logged by the newest run of ``work_dir`` so far."""
    runs = sorted(p for p in work_dir.glob('2*') if p.is_dir())
    if not runs:
        return []
    path = runs[-1] / 'vis_data' / 'scalars.json'
    steps = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                steps.append(json.loads(line)['step'])
            except (json.JSONDecodeError, KeyError):  # a line being written
                continue
    return steps


def wait_for_step(proc: subprocess.Popen, work_dir: Path, step: int) -> None:
    """Wait until iteration ``step`` is logged (training goes on)."""
    deadline = time.monotonic() + TIMEOUT_S
    while step not in logged_steps(work_dir):
        assert proc.poll() is None, f'training ended (rc {proc.returncode})'
        assert time.monotonic() < deadline, 'training did not progress'
        time.sleep(0.01)


def descendants(root: int) -> List[int]:
    """Pids of the processes below ``root`` (torchrun starts each worker in
    a session of its own, so the process group does not find them)."""
    parents = {}
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                stat = Path(f'/proc/{entry}/stat').read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(')', 1)[1].split()[1])
    found, frontier = [], [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid]
        found += children
        frontier += children
    return found


def finish(proc: subprocess.Popen, log: Path) -> int:
    """Wait for the exit code; on a timeout kill the job and the torchrun
    workers (their own sessions) before failing."""
    try:
        return proc.wait(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            for pid in descendants(proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        print(log.read_text()[-3000:])


def final_state(work_dir: Path) -> Dict[str, dict]:
    """Model and optimizer states of the run's last checkpoint."""
    ckpt = torch.load(
        work_dir / f'iter_{MAX_ITERS}.pth',
        map_location='cpu',
        weights_only=True)
    return dict(
        state_dict=ckpt['state_dict'],
        optimizer=ckpt['optimizer'],
        meta=ckpt['meta'])


def assert_same_state(got: Dict[str, dict], want: Dict[str, dict]) -> None:
    """Bit-identical parameters, buffers and optimizer state."""
    assert got['meta']['iter'] == want['meta']['iter'] == MAX_ITERS
    assert got['state_dict'].keys() == want['state_dict'].keys()
    for key, value in want['state_dict'].items():
        assert torch.equal(got['state_dict'][key], value), key
    want_opt, got_opt = want['optimizer']['state'], got['optimizer']['state']
    assert got_opt.keys() == want_opt.keys()
    for index, state in want_opt.items():
        for name, value in state.items():
            assert torch.equal(got_opt[index][name], value), (index, name)


#: Options of the 2-rank runs: one seed per rank (``diff_rank_seed``), so
#: the ranks' dropout masks differ and every rank's RNG state matters.
DDP_OPTIONS = ('randomness.diff_rank_seed=True', )
