"""Faults injected into real training processes by the reliability tests.

Imported by the configs of ``tests/test_reliability/configs`` through
``custom_imports`` (the tests put this folder on ``PYTHONPATH``).
"""
import os
import resource
import signal
from typing import Dict, Optional

import torch
from mmengine.dist import get_dist_info
from mmengine.hooks import Hook

from cmim_dense.registry import HOOKS


@HOOKS.register_module()
class DiskFullHook(Hook):
    """Make writes of files over ``limit`` bytes fail around one save.

    Right before the checkpoint hook saves after iteration ``at_iter``
    (1-based) the process's file-size limit (``RLIMIT_FSIZE``) is lowered
    to ``limit`` bytes, so the kernel refuses the checkpoint's bytes
    (``OSError: [Errno 27] File too large``) the way a full disk does
    (``ENOSPC``), mid-write. With ``once`` the limit is lifted before the
    next iteration.

    Args:
        at_iter (int): The 1-based iteration whose checkpoint fails.
        limit (int): Bytes allowed per file. Defaults to 256 KiB (the tiny
            model's checkpoint is about 1.6 MB, its logs a few KiB).
        once (bool): Lift the limit after that save. Defaults to True.
    """

    priority = 'HIGH'  # before the checkpoint hook (VERY_LOW)

    def __init__(self,
                 at_iter: int,
                 limit: int = 256 * 1024,
                 once: bool = True) -> None:
        self.at_iter = at_iter
        self.limit = limit
        self.once = once
        self._saved: Optional[tuple] = None

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG, not a kill
        self._saved = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.limit, self._saved[1]))

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self._saved is not None and self.once:
            resource.setrlimit(resource.RLIMIT_FSIZE, self._saved)
            self._saved = None


@HOOKS.register_module()
class PoisonRankHook(Hook):
    """Make one rank's classifier output NaN in one iteration, and save each
    rank's parameters (``WORK_DIR/rank{R}.pt``: before and after that
    iteration, and at the end).

    Args:
        rank (int): The rank whose loss becomes NaN.
        at_iter (int): The 1-based iteration poisoned.
    """

    priority = 'LOWEST'

    def __init__(self, rank: int, at_iter: int) -> None:
        self.rank = rank
        self.at_iter = at_iter
        self.handle = None
        self.states: Dict[str, Dict[str, torch.Tensor]] = {}

    @staticmethod
    def _params(runner) -> Dict[str, torch.Tensor]:
        model = getattr(runner.model, 'module', runner.model)
        return {n: p.detach().clone() for n, p in model.named_parameters()}

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        self.states['before'] = self._params(runner)
        if get_dist_info()[0] == self.rank:
            model = getattr(runner.model, 'module', runner.model)
            self.handle = model.decode_head.conv_seg.register_forward_hook(
                lambda module, args, out: out * float('nan'))

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        if runner.iter + 1 != self.at_iter:
            return
        if self.handle is not None:
            self.handle.remove()
            self.handle = None
        self.states['after'] = self._params(runner)

    def after_train(self, runner) -> None:
        self.states['final'] = self._params(runner)
        self.states['skipped'] = torch.tensor(
            runner.optim_wrapper.skipped_steps)
        torch.save(
            self.states,
            os.path.join(runner.work_dir, f'rank{get_dist_info()[0]}.pt'))
