"""The non-finite vote under DDP: 2 gloo ranks, the loss NaN on rank 1 only
in iteration 3 (``PoisonRankHook``).

``policy='skip'``: every rank skips that step (no rank updates, or DDP's
all-reduce would hang), the parameters stay identical across the ranks,
training goes on, and the warning names the rank and the loss term.
``policy='stop'``: every rank stops with ``NonFiniteError`` naming them,
and nothing hangs.
"""
from pathlib import Path

import torch
from training_runs import CONFIGS, DDP_OPTIONS, SEED, command, run

CONFIG = CONFIGS / 'tiny_nan_rank1.py'


def _states(work_dir: Path, rank: int) -> dict:
    return torch.load(work_dir / f'rank{rank}.pt', weights_only=True)


def test_nan_on_one_rank_skips_on_every_rank(tmp_path: Path,
                                             reliability_data: Path) -> None:
    work_dir = tmp_path / 'work'
    proc = run(
        command(
            work_dir,
            reliability_data,
            *SEED,
            *DDP_OPTIONS,
            config=CONFIG,
            ranks=2))
    states = [_states(work_dir, rank) for rank in (0, 1)]
    for rank, state in enumerate(states):
        assert int(state['skipped']) == 1, rank
        for name, value in state['before'].items():  # the NaN step: no update
            assert torch.equal(state['after'][name], value), (rank, name)
        changed = [
            n for n, v in state['final'].items()
            if not torch.equal(v, state['after'][n])
        ]
        assert changed, 'training did not go on after the skip'
    for name, value in states[0]['final'].items():
        assert torch.equal(states[1]['final'][name], value), name
    text = proc.stdout + proc.stderr
    assert ('Non-finite loss term(s) decode.loss_ce (nan) on rank 1 at '
            'iteration 3; optimizer step skipped') in text, text[-3000:]


def test_nan_on_one_rank_stops_every_rank(tmp_path: Path,
                                          reliability_data: Path) -> None:
    proc = run(
        command(
            tmp_path / 'work',
            reliability_data,
            *SEED,
            *DDP_OPTIONS,
            'optim_wrapper.policy=stop',
            config=CONFIG,
            ranks=2),
        expect=None)
    assert proc.returncode != 0
    text = proc.stdout + proc.stderr
    message = ('NonFiniteError: Non-finite loss term(s) decode.loss_ce (nan) '
               'on rank 1 at iteration 3; stopping')
    assert text.count(message) == 2, text[-4000:]  # raised on both ranks
