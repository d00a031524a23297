"""Exact resume with data workers: ``num_workers=2``,
``persistent_workers=True``, the whole job SIGKILLed in the middle of an
epoch (8 images, batch 2: 4 iterations per epoch; checkpoints every 3).

``--resume`` must bring back the sampler position, the workers' seeds and
their augmentation RNG (``RandomFlip``), so the resumed run sees the
batches and flips of the uninterrupted one: its final parameters and
optimizer state are bit-identical. The resumed process gets no seed on the
command line (the config has none), as a user relaunching a job: the
seed comes from the checkpoint. The kill step is drawn from a seeded RNG
and printed.
"""
import os
import random
import signal
from pathlib import Path
from typing import Dict

from training_runs import (SEED, WORKERS, assert_same_state, command,
                           final_state, finish, logged_steps, run, start,
                           wait_for_step)

ITERS_PER_EPOCH = 4


def test_sigkill_mid_epoch_with_workers(
        tmp_path: Path, reliability_data: Path,
        uninterrupted: Dict[str, dict]) -> None:
    step = random.Random('issue16-sigkill').choice([4, 5, 7])
    print(f'SIGKILL after iteration {step} is logged')
    work_dir, log = tmp_path / 'work', tmp_path / 'train.log'
    proc = start(command(work_dir, reliability_data, *SEED, *WORKERS), log)
    wait_for_step(proc, work_dir, step)
    os.killpg(proc.pid, signal.SIGKILL)  # main process and workers
    assert finish(proc, log) == -signal.SIGKILL
    checkpoints = sorted(work_dir.glob('iter_*.pth'))
    assert len(checkpoints) == 1 and not list(work_dir.glob('.*.tmp'))
    resumed_from = int(checkpoints[0].stem.split('_')[1])
    assert resumed_from % ITERS_PER_EPOCH != 0, 'not mid-epoch'
    assert resumed_from < max(logged_steps(work_dir)) + 1

    run(command(work_dir, reliability_data, *WORKERS, resume=True))
    assert min(logged_steps(work_dir)) == resumed_from + 1
    assert_same_state(final_state(work_dir), uninterrupted)
