"""RNGStateHook: every rank saves and restores its own generator states."""
import io
import logging
import random
from types import SimpleNamespace
from typing import List

import numpy as np
import pytest
import torch

import cmim_dense  # noqa: F401  (the checkpoint allow-list)
from cmim_dense.engine.hooks import rng_state_hook
from cmim_dense.engine.hooks.rng_state_hook import (RNGStateHook,
                                                    capture_rng_state)


def _seeded_state(seed: int) -> dict:
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    return capture_rng_state()


def _draws() -> List[float]:
    return [float(torch.rand(1)), float(np.random.rand()), random.random()]


def _expected_draws(seed: int) -> List[float]:
    """What a freshly seeded process draws (independent of the hook)."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    return _draws()


class _Records(logging.Handler):

    def __init__(self) -> None:
        super().__init__()
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _runner(num_workers: int) -> SimpleNamespace:
    logger = logging.getLogger('test_rng_state_hook')
    logger.setLevel(logging.INFO)
    records = _Records()
    logger.addHandler(records)
    return SimpleNamespace(
        _resume=True,
        iter=5,
        logger=logger,
        records=records,
        train_loop=SimpleNamespace(
            dataloader=SimpleNamespace(num_workers=num_workers)))


def _resume(monkeypatch,
            checkpoint: dict,
            rank: int,
            world: int,
            num_workers: int = 2) -> SimpleNamespace:
    """Run the hook's resume path as rank ``rank`` of ``world``; the
    generators are scrambled first."""
    monkeypatch.setattr(rng_state_hook, 'get_dist_info', lambda: (rank, world))
    runner = _runner(num_workers)
    hook = RNGStateHook()
    hook.after_load_checkpoint(runner, checkpoint)
    _seeded_state(12345)  # what a fresh process would have
    hook.before_train_iter(runner, batch_idx=5)
    return runner


def _two_rank_checkpoint() -> dict:
    """A checkpoint as rank 0 writes it for 2 ranks (through torch.save and
    ``weights_only`` loading, as on resume)."""
    checkpoint = dict(
        rng_state=dict(
            world_size=2, ranks=[_seeded_state(0),
                                 _seeded_state(1)]))
    buffer = io.BytesIO()
    torch.save(checkpoint, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize('rank', [0, 1])
def test_each_rank_restores_its_own_state(monkeypatch, rank: int) -> None:
    runner = _resume(monkeypatch, _two_rank_checkpoint(), rank, 2)
    got = _draws()
    assert got == _expected_draws(rank)
    assert got != _expected_draws(1 - rank)
    assert not any('not an exact' in m for m in runner.records.messages)


def test_numpy_and_python_not_restored_without_workers(monkeypatch) -> None:
    """With ``num_workers=0`` the replay of the consumed batches already
    left numpy/python where they were: only torch is restored."""
    _resume(monkeypatch, _two_rank_checkpoint(), 1, 2, num_workers=0)
    got = _draws()
    fresh = _expected_draws(12345)
    assert got[0] == _expected_draws(1)[0]
    assert got[1:] == fresh[1:]


def test_other_world_size_says_what_it_does(monkeypatch) -> None:
    checkpoint = _two_rank_checkpoint()
    runner = _resume(monkeypatch, checkpoint, 0, 1)
    assert _draws() == _expected_draws(0)  # rank 0: its own state
    message = '\n'.join(runner.records.messages)
    assert 'holds the RNG states of 2 of its 2 rank(s); this run has 1' \
        in message
    assert 'not an exact continuation' in message
    _resume(monkeypatch, checkpoint, 2, 3)  # no saved state for rank 2
    assert _draws() == _expected_draws(12345)  # kept its seeded state


def test_first_round_checkpoints_still_resume(monkeypatch) -> None:
    """The first round saved ``{'torch': state}`` (rank 0 only)."""
    old = dict(rng_state=dict(torch=_seeded_state(3)['torch']))
    _resume(monkeypatch, old, 0, 1)
    assert _draws()[0] == _expected_draws(3)[0]


def test_save_keeps_gathered_states_of_that_iteration(monkeypatch) -> None:
    """Rank 0's checkpoint holds its live state and the other ranks'
    states gathered at the same iteration, nothing stale."""
    monkeypatch.setattr(rng_state_hook, 'get_dist_info', lambda: (0, 2))
    other = _seeded_state(1)
    monkeypatch.setattr(rng_state_hook, 'all_gather_object',
                        lambda mine: [mine, other])
    hook, runner = RNGStateHook(), _runner(2)
    hook.before_save_checkpoint_all_ranks(runner)
    live = _seeded_state(0)
    checkpoint: dict = {}
    hook.before_save_checkpoint(runner, checkpoint)
    saved = checkpoint['rng_state']
    assert saved['world_size'] == 2 and len(saved['ranks']) == 2
    assert torch.equal(saved['ranks'][0]['torch'], live['torch'])
    assert torch.equal(saved['ranks'][1]['torch'], other['torch'])
    runner.iter += 1  # a later save without a gather: rank 0's only
    hook.before_save_checkpoint(runner, checkpoint)
    assert len(checkpoint['rng_state']['ranks']) == 1
