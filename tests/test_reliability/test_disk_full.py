"""Disk trouble: the checkpoint after iteration 6 cannot be written (the
kernel refuses its bytes mid-write, ``DiskFullHook``), with
``max_keep_ckpts=1`` so the previous checkpoint is the only one.

``on_save_error='stop'`` (the default): training stops with an error
naming the path, ``iter_3.pth`` and ``last_checkpoint`` are untouched, no
partial file is left, and ``--resume`` from it ends bit-identical to the
uninterrupted run. ``'continue'``: training goes on, logs the path, and
ends bit-identical to the uninterrupted run.
"""
from pathlib import Path
from typing import Dict

import torch
from training_runs import (CONFIGS, SEED, WORKERS, assert_same_state, command,
                           final_state, logged_steps, run)

CONFIG = CONFIGS / 'tiny_disk_full.py'
NO_FAULT = ('custom_hooks.3.at_iter=0', )  # the resumed run's disk is fine


def test_failed_save_stops_and_resumes(tmp_path: Path, reliability_data: Path,
                                       uninterrupted: Dict[str, dict]) -> None:
    work_dir = tmp_path / 'work'
    proc = run(
        command(work_dir, reliability_data, *SEED, *WORKERS, config=CONFIG),
        expect=1)
    failed = work_dir / 'iter_6.pth'
    assert f'could not write the checkpoint {failed}' in proc.stderr
    assert 'File too large' in proc.stderr
    assert 'CheckpointSaveError' in proc.stderr
    assert max(logged_steps(work_dir)) == 6
    assert sorted(p.name for p in work_dir.iterdir() if p.is_file()) == [
        'iter_3.pth', 'last_checkpoint', 'tiny_disk_full.py'
    ]
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir /
                                                             'iter_3.pth')
    meta = torch.load(work_dir / 'iter_3.pth', weights_only=True)['meta']
    assert meta['iter'] == 3

    run(
        command(
            work_dir,
            reliability_data,
            *WORKERS,
            *NO_FAULT,
            config=CONFIG,
            resume=True))
    assert min(logged_steps(work_dir)) == 4
    assert_same_state(final_state(work_dir), uninterrupted)


def test_failed_save_continue_policy(tmp_path: Path, reliability_data: Path,
                                     uninterrupted: Dict[str, dict]) -> None:
    work_dir = tmp_path / 'work'
    proc = run(
        command(
            work_dir,
            reliability_data,
            *SEED,
            *WORKERS,
            'default_hooks.checkpoint.on_save_error=continue',
            config=CONFIG))
    assert (f'could not write the checkpoint {work_dir / "iter_6.pth"}'
            in proc.stdout + proc.stderr)
    assert 'Training goes on (on_save_error="continue")' in (proc.stdout +
                                                             proc.stderr)
    assert not list(work_dir.glob('.*.tmp'))
    assert_same_state(final_state(work_dir), uninterrupted)
