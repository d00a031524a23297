"""The non-finite guard and the atomic checkpoint hook in a real training
run (the tiny config, in-process ``Runner``)."""
import logging
import os
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner

from cmim_dense.engine import NonFiniteError, NonFiniteGuardOptimWrapper
from cmim_dense.engine.hooks.atomic_checkpoint_hook import AtomicLocalBackend

CONFIG = (
    Path(__file__).resolve().parents[1] / 'data' / 'configs' / 'tiny_seg.py')
POISONED_ITER = 1  # 0-based: the 2nd iteration


class PoisonHook(Hook):
    """Make the classifier output NaN in one iteration; record whether the
    parameters changed over that iteration."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.handle = None
        self.before: Optional[Dict[str, torch.Tensor]] = None
        self.unchanged: Optional[bool] = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter != POISONED_ITER:
            return
        model = runner.model
        self.before = {
            n: p.detach().clone()
            for n, p in model.named_parameters()
        }
        self.handle = model.decode_head.conv_seg.register_forward_hook(
            lambda module, args, out: out * float('nan'))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if self.handle is None:
            return
        self.handle.remove()
        self.handle = None
        self.unchanged = all(
            torch.equal(p, self.before[n])
            for n, p in runner.model.named_parameters())


def _runner(tmp_path: Path, data_root: Path, policy: str) -> Runner:
    cfg = Config.fromfile(str(CONFIG))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(data_root)
    cfg.work_dir = str(tmp_path / f'work_{policy}')
    cfg.train_cfg.max_iters = 3
    cfg.train_cfg.val_interval = 100
    cfg.optim_wrapper.type = 'NonFiniteGuardOptimWrapper'
    cfg.optim_wrapper.policy = policy
    cfg.default_hooks.checkpoint.type = 'AtomicCheckpointHook'
    cfg.default_hooks.checkpoint.interval = 1
    runner = Runner.from_cfg(cfg)
    return runner


@pytest.fixture(scope='module')
def data_root(tmp_path_factory: pytest.TempPathFactory,
              tiny_seg_dataset) -> Path:
    return tiny_seg_dataset.make(tmp_path_factory.mktemp('guard') / 'data')


class _ListHandler(logging.Handler):

    def __init__(self) -> None:
        super().__init__()
        self.messages: List[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_skip_policy_in_training(tmp_path: Path, data_root: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    runner = _runner(tmp_path, data_root, 'skip')
    records = _ListHandler()
    runner.logger.addHandler(records)
    poison = PoisonHook()
    runner.register_hook(poison)
    runner.train()
    assert isinstance(runner.optim_wrapper, NonFiniteGuardOptimWrapper)
    assert poison.unchanged is True  # the NaN step changed no weight
    assert runner.optim_wrapper.skipped_steps == 1
    assert runner.iter == 3  # training went on
    message = '\n'.join(records.messages)
    assert 'Non-finite loss term(s) decode.loss_ce' in message, message
    assert f'at iteration {POISONED_ITER + 1}' in message
    final = {n: p.detach() for n, p in runner.model.named_parameters()}
    assert all(torch.isfinite(p).all() for p in final.values())

    # Checkpoints went through the atomic backend; a failing save of the
    # next one leaves the previous intact and no partial file.
    hook = next(
        h for h in runner.hooks if type(h).__name__ == 'AtomicCheckpointHook')
    assert isinstance(hook.file_backend, AtomicLocalBackend)
    work_dir = Path(runner.work_dir)
    before: List[str] = sorted(os.listdir(work_dir))
    ckpt = work_dir / 'iter_3.pth'
    saved = ckpt.read_bytes()

    def fail(*args, **kwargs):
        raise OSError('simulated crash while writing')

    monkeypatch.setattr(os, 'fsync', fail)
    with pytest.raises(OSError, match='simulated'):
        runner.save_checkpoint(
            str(work_dir),
            'iter_3.pth',
            by_epoch=False,
            backend_args=hook.backend_args)
    monkeypatch.undo()
    assert sorted(os.listdir(work_dir)) == before
    assert ckpt.read_bytes() == saved
    state = torch.load(ckpt, weights_only=True)['state_dict']
    assert torch.equal(state['decode_head.conv_seg.weight'],
                       final['decode_head.conv_seg.weight'])


def test_stop_policy_in_training(tmp_path: Path, data_root: Path) -> None:
    runner = _runner(tmp_path, data_root, 'stop')
    poison = PoisonHook()
    runner.register_hook(poison)
    with pytest.raises(
            NonFiniteError,
            match=r'decode\.loss_ce.* at iteration 2; stopping'):
        runner.train()
    assert poison.before is not None
    for name, param in runner.model.named_parameters():
        assert torch.equal(param, poison.before[name]), name
