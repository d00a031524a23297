"""Stop on a preemption signal at an agreed step, with a checkpoint."""
import json
import os
import signal
import threading
from typing import Dict, Optional, Sequence

import torch
from mmengine.dist import all_reduce, barrier, get_dist_info
from mmengine.hooks import CheckpointHook, Hook

from cmim_dense.registry import HOOKS
from ...utils.atomic_io import atomic_write

#: Exit code of ``tools/train.py`` (and ``tools/dist_train.sh``) after a
#: preemption checkpoint: ``EX_TEMPFAIL`` of ``sysexits.h``, "temporary
#: failure, retry": requeue the job with ``--resume``.
EXIT_PREEMPTED = 75

#: Environment variable naming a file that rank 0 writes (JSON) when it
#: stops for a preemption; ``tools/dist_train.sh`` sets it to turn
#: torchrun's generic failure into :data:`EXIT_PREEMPTED`.
MARKER_ENV = 'CMIM_PREEMPTION_MARKER'

# Signals kept from processes forked while a hook is installed (dataloader
# workers): a scheduler signals every process of the job, and a worker
# killed by it would make the main process fail at a random point (torch's
# SIGCHLD handler) instead of finishing the step. See _guard_child.
_BLOCKED_IN_CHILDREN: set = set()
_FORK_GUARD_REGISTERED = False


def _guard_child() -> None:
    """In a forked child: ignore the preemption signals unless its parent
    sends SIGTERM (how multiprocessing and torch stop workers).

    The signals are blocked in every thread and a daemon thread takes them
    with ``sigwaitinfo``, which tells who sent them: SIGTERM from the
    parent exits the child (as torch's worker handler does), anything else
    is dropped; the main process stops the workers when it has saved.
    """
    if not _BLOCKED_IN_CHILDREN:
        return
    signals = set(_BLOCKED_IN_CHILDREN)
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    parent = os.getppid()

    def take() -> None:
        while True:
            info = signal.sigwaitinfo(signals)
            if info.si_signo == signal.SIGTERM and info.si_pid == parent:
                os._exit(0)

    threading.Thread(
        target=take, name='preemption-signal-guard', daemon=True).start()


class TrainingPreempted(Exception):
    """Training stopped after a preemption signal; a checkpoint is saved.

    Args:
        iteration (int): The last completed iteration (1-based).
        checkpoint (str): The checkpoint to resume from.
        signal_name (str): The signal that asked to stop (on some rank).
    """

    def __init__(self, iteration: int, checkpoint: Optional[str],
                 signal_name: str) -> None:
        super().__init__(
            f'preempted by {signal_name}: stopped after iteration '
            f'{iteration}, checkpoint {checkpoint}; continue with --resume')
        self.iteration = iteration
        self.checkpoint = checkpoint
        self.signal_name = signal_name


@HOOKS.register_module()
class PreemptionHook(Hook):
    """Finish the current step, checkpoint and stop when preempted.

    Schedulers preempt a job by sending SIGTERM (SLURM: SIGTERM, then
    SIGKILL after the grace time; some send SIGUSR1 first). This hook
    replaces the handlers of ``signals`` by one that only records the
    signal. After every training iteration all ranks vote (one
    all-reduce of a single number): if any rank received a signal, every
    rank stops after this same iteration; the checkpoint hook saves
    ``iter_N.pth`` (rank 0 writes, atomically with
    :class:`AtomicCheckpointHook`, and updates ``last_checkpoint``) unless
    it just did, the ranks wait for the write, and
    :class:`TrainingPreempted` is raised. ``tools/train.py`` turns it into
    the exit code :data:`EXIT_PREEMPTED` (75) and ``--resume`` continues
    from that checkpoint.

    Processes forked while the hook is installed (dataloader workers) drop
    ``signals`` (except a SIGTERM from their parent, how workers are
    stopped), so a signal sent to the whole job does not kill them; they
    stop with the main process. ``tools/train.py`` installs the
    handlers before the dataloader workers start; otherwise
    :meth:`before_run` does.

    A signal that arrives during validation or during the replay of the
    consumed batches on resume takes effect after the next training
    iteration. Only iteration-based checkpoints (``by_epoch=False``) resume
    mid-epoch exactly; with an epoch-based loop mmengine restarts the epoch.

    Args:
        signals (Sequence[str]): Names of the signals to handle. Defaults
            to ``('SIGTERM', 'SIGUSR1')``.
    """

    priority = 'LOWEST'  # after the scheduler and checkpoint hooks

    def __init__(
        self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1')) -> None:
        if isinstance(signals, str):
            signals = (signals, )
        unknown = [s for s in signals if not hasattr(signal, str(s))]
        if unknown or not signals:
            raise ValueError(
                f'PreemptionHook: signals must be signal names such as '
                f'"SIGTERM", got {list(signals)!r}')
        self.signals = tuple(getattr(signal, s) for s in signals)
        self.received: Optional[int] = None
        self._previous: Dict[int, object] = {}

    # ------------------------------------------------------------------
    # Signal handlers
    # ------------------------------------------------------------------
    def _on_signal(self, signum: int, frame) -> None:
        if self.received is None:
            self.received = signum

    @property
    def installed(self) -> bool:
        """Whether this hook's handlers are in place."""
        return bool(self._previous)

    def install(self) -> None:
        """Install the handlers and block ``signals`` in forked children.

        Idempotent; a no-op outside the main thread (Python delivers
        signals to the main thread only).
        """
        global _FORK_GUARD_REGISTERED
        if self.installed or \
                threading.current_thread() is not threading.main_thread():
            return
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._on_signal)
        if not _FORK_GUARD_REGISTERED:
            os.register_at_fork(after_in_child=_guard_child)
            _FORK_GUARD_REGISTERED = True
        _BLOCKED_IN_CHILDREN.update(self.signals)

    def uninstall(self) -> None:
        """Restore the previous handlers; children are no longer guarded."""
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
            _BLOCKED_IN_CHILDREN.discard(signum)
        self._previous = {}

    # ------------------------------------------------------------------
    # Hook stages
    # ------------------------------------------------------------------
    def before_run(self, runner) -> None:
        self.install()

    def after_run(self, runner) -> None:
        self.uninstall()

    @staticmethod
    def _checkpoint_hook(runner) -> CheckpointHook:
        for hook in runner.hooks:
            if isinstance(hook, CheckpointHook):
                return hook
        raise RuntimeError(
            'PreemptionHook needs a checkpoint hook (default_hooks.checkpoint'
            ', e.g. AtomicCheckpointHook) to save the preemption checkpoint.')

    def _vote(self) -> Optional[int]:
        """The signal number any rank received (the largest), else None."""
        flag = torch.tensor([self.received or 0], dtype=torch.int64)
        if get_dist_info()[1] > 1:
            all_reduce(flag, op='max')
        return int(flag.item()) or None

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        signum = self._vote()
        if signum is None:
            return
        name = signal.Signals(signum).name
        rank, _ = get_dist_info()
        iteration = runner.iter + 1
        where = 'this rank' if self.received else 'another rank'
        runner.logger.warning(
            f'PreemptionHook: {name} received by {where}; rank {rank} stops '
            f'after iteration {iteration} with a checkpoint.')
        hook = self._checkpoint_hook(runner)
        step = runner.epoch + 1 if hook.by_epoch else iteration
        filename = hook.filename_tmpl.format(step)
        if not (hook.last_ckpt or '').endswith(filename):
            hook._save_checkpoint(runner)  # every rank: it synchronizes
        barrier()  # no rank exits before rank 0 has written
        checkpoint = hook.last_ckpt
        marker = os.environ.get(MARKER_ENV)
        if marker and rank == 0:
            atomic_write(
                json.dumps(
                    dict(
                        signal=name,
                        iteration=iteration,
                        checkpoint=checkpoint,
                        exit_code=EXIT_PREEMPTED)).encode(), marker)
        # Stop the dataloader workers now (they ignore the signal).
        if hasattr(runner.train_loop, 'dataloader_iterator'):
            runner.train_loop.dataloader_iterator = None
        self.uninstall()
        raise TrainingPreempted(iteration, checkpoint, name)
