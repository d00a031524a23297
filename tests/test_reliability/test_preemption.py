"""Preemption: SIGTERM / SIGUSR1 to a real training process stops it after
the current step with a checkpoint and exit code 75; ``--resume`` ends with
the parameters of an uninterrupted run, bit for bit.

The step is drawn from a seeded RNG and printed, so a failure is
reproducible (``pytest -s`` shows it).
"""
import os
import random
import signal
from pathlib import Path
from typing import Dict

from training_runs import (DDP_OPTIONS, MAX_ITERS, SEED, WORKERS,
                           assert_same_state, command, descendants,
                           final_state, finish, logged_steps, run, start,
                           wait_for_step)

from cmim_dense.engine import EXIT_PREEMPTED


def _pick_step(name: str) -> int:
    # not right after a checkpoint (every 3): the hook must write its own
    step = random.Random(f'issue16-{name}').choice([1, 4, 7])
    print(f'{name}: signal after iteration {step} is logged')
    return step


def _checkpoint_left(work_dir: Path) -> int:
    """The iteration of the only checkpoint, which ``last_checkpoint``
    names; no temporary file."""
    checkpoints = sorted(work_dir.glob('*.pth'))
    assert len(checkpoints) == 1, checkpoints  # max_keep_ckpts=1
    assert (work_dir / 'last_checkpoint').read_text() == str(checkpoints[0])
    assert not list(work_dir.glob('.*.tmp'))
    return int(checkpoints[0].stem.split('_')[1])


def _rank_pid(launcher: int, rank: int) -> int:
    """The pid of training rank ``rank`` started by ``launcher``."""
    for pid in descendants(launcher):
        try:
            cmdline = Path(f'/proc/{pid}/cmdline').read_bytes()
            environ = Path(f'/proc/{pid}/environ').read_bytes()
        except OSError:
            continue
        if b'train.py' in cmdline and b'--launcher' in cmdline and \
                f'\0RANK={rank}\0'.encode() in b'\0' + environ:
            return pid
    raise AssertionError(f'no process of rank {rank} under {launcher}')


def test_sigterm_single_process(tmp_path: Path, reliability_data: Path,
                                uninterrupted: Dict[str, dict]) -> None:
    """SIGTERM to the whole job (main process and its 2 persistent data
    workers, as a scheduler sends it): the step finishes, the checkpoint of
    that step is written, exit code 75; the resumed run (no seed in the
    config: the checkpoint's) equals the uninterrupted one."""
    step = _pick_step('single')
    work_dir, log = tmp_path / 'work', tmp_path / 'train.log'
    proc = start(command(work_dir, reliability_data, *SEED, *WORKERS), log)
    wait_for_step(proc, work_dir, step)
    os.killpg(proc.pid, signal.SIGTERM)
    assert finish(proc, log) == EXIT_PREEMPTED
    stopped = max(logged_steps(work_dir))
    assert step <= stopped < MAX_ITERS
    assert _checkpoint_left(work_dir) == stopped  # the step it stopped at
    assert 'PreemptionHook: SIGTERM received by this rank' in log.read_text()

    run(command(work_dir, reliability_data, *WORKERS, resume=True))
    assert min(logged_steps(work_dir)) == stopped + 1
    assert_same_state(final_state(work_dir), uninterrupted)


def test_sigusr1_to_one_of_two_ranks(
        tmp_path: Path, reliability_data: Path,
        uninterrupted_ddp: Dict[str, dict]) -> None:
    """2 gloo ranks (``tools/dist_train.sh``), SIGUSR1 to rank 1 only: rank
    0 learns it from the vote, both stop after the same step, rank 0 writes
    the checkpoint, dist_train.sh exits 75. Resumed (each rank restores its
    own RNG state: the ranks are seeded differently), the final parameters
    equal the uninterrupted 2-rank run's."""
    step = _pick_step('ddp')
    work_dir, log = tmp_path / 'work', tmp_path / 'train.log'
    proc = start(
        command(work_dir, reliability_data, *SEED, *DDP_OPTIONS, ranks=2), log)
    wait_for_step(proc, work_dir, step)
    os.kill(_rank_pid(proc.pid, 1), signal.SIGUSR1)
    assert finish(proc, log) == EXIT_PREEMPTED
    stopped = max(logged_steps(work_dir))
    assert step <= stopped < MAX_ITERS
    assert _checkpoint_left(work_dir) == stopped
    text = log.read_text()
    assert ('PreemptionHook: SIGUSR1 received by another rank; rank 0 stops '
            f'after iteration {stopped}') in text
    assert 'dist_train.sh: preempted' in text

    run(
        command(
            work_dir, reliability_data, *DDP_OPTIONS, resume=True, ranks=2))
    assert min(logged_steps(work_dir)) == stopped + 1
    assert_same_state(final_state(work_dir), uninterrupted_ddp)


def test_sigterm_to_the_torchrun_job(tmp_path: Path,
                                     reliability_data: Path) -> None:
    """SIGTERM to the process group of ``tools/dist_train.sh`` (the script
    and torchrun, as a scheduler sends it): torchrun forwards it to the
    ranks, they checkpoint the step they stop at, and the script survives
    to exit with 75 (not torchrun's generic failure)."""
    step = _pick_step('torchrun')
    work_dir, log = tmp_path / 'work', tmp_path / 'train.log'
    proc = start(
        command(work_dir, reliability_data, *SEED, *DDP_OPTIONS, ranks=2), log)
    wait_for_step(proc, work_dir, step)
    os.killpg(proc.pid, signal.SIGTERM)
    assert finish(proc, log) == EXIT_PREEMPTED
    stopped = max(logged_steps(work_dir))
    assert _checkpoint_left(work_dir) == stopped < MAX_ITERS
    assert 'PreemptionHook: SIGTERM received by this rank' in log.read_text()
