"""Save every rank's RNG states in checkpoints, restore them on resume."""
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook

from cmim_dense.registry import HOOKS


def capture_rng_state() -> Dict[str, Any]:
    """This process's generator states: torch CPU (and CUDA), numpy, random.

    Returns:
        dict: ``torch`` (uint8 tensor), ``numpy`` (the tuple of
        ``np.random.get_state()``), ``python`` (``random.getstate()``) and,
        when CUDA is initialized, ``cuda`` (one state per device).
    """
    state: Dict[str, Any] = dict(
        torch=torch.get_rng_state(),
        numpy=np.random.get_state(),
        python=random.getstate())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: Dict[str, Any], numpy_and_python: bool) -> None:
    """Set this process's generators to ``state`` (see
    :func:`capture_rng_state`).

    Args:
        state (dict): A state from :func:`capture_rng_state`.
        numpy_and_python (bool): Also restore numpy's and Python's
            generators (when present in ``state``).
    """
    torch.set_rng_state(state['torch'])
    cuda_states = state.get('cuda')
    if cuda_states and torch.cuda.is_available() \
            and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)
    if numpy_and_python:
        if state.get('numpy') is not None:
            np.random.set_state(tuple(state['numpy']))
        if state.get('python') is not None:
            version, internal, gauss = state['python']
            random.setstate((version, tuple(internal), gauss))


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make resumed runs draw the same random numbers as uninterrupted ones,
    on every rank.

    mmengine re-seeds on resume but does not save the generators' states,
    so everything drawn after a resume (dropout masks, CMIM's memory-bank
    negatives) would differ from the uninterrupted run. This hook stores
    the states of torch's CPU (and CUDA), numpy's and Python's generators
    **of every rank** in each checkpoint::

        checkpoint['rng_state'] = dict(world_size=W, ranks=[state_0, ...])

    Checkpoints are written by rank 0 only, so the states of the other
    ranks are gathered right before the save: :class:`AtomicCheckpointHook`
    calls :meth:`before_save_checkpoint_all_ranks` on every rank. With
    another checkpoint hook, or a save it does not make, a distributed
    checkpoint holds rank 0's state only, and the other ranks keep their
    freshly seeded generators on resume (with a warning).

    On resume each rank restores its own state right before the first
    resumed iteration, i.e. after the train loop has skipped (replayed) the
    batches already trained on. numpy's and Python's generators are
    restored only when the train dataloader has workers: with
    ``num_workers=0`` the data pipeline draws from them in this process and
    the loop's replay of the consumed batches already leaves them in the
    uninterrupted run's state (restoring would rewind them by the batch
    fetched before the first resumed iteration). The workers' own
    generators are seeded per worker by mmengine and replayed the same way.

    Resuming on another world size: rank ``r`` restores the state saved by
    rank ``r`` if the checkpoint has one, other ranks keep their seeded
    state; a warning says so, and the run is not an exact continuation.
    """

    priority = 'VERY_HIGH'  # restore before any other hook draws

    def __init__(self) -> None:
        self._pending: Optional[dict] = None
        self._gathered: Optional[List[dict]] = None
        self._gathered_at: Optional[int] = None

    # ------------------------------------------------------------------
    # Saving
    # ------------------------------------------------------------------
    def before_save_checkpoint_all_ranks(self, runner) -> None:
        """Gather every rank's RNG state for the checkpoint about to be
        written (a collective: called on every rank)."""
        _, world_size = get_dist_info()
        if world_size > 1:
            self._gathered = all_gather_object(capture_rng_state())
            self._gathered_at = runner.iter

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        _, world_size = get_dist_info()
        ranks = [capture_rng_state()]  # rank 0's live state
        if world_size > 1 and self._gathered is not None \
                and self._gathered_at == runner.iter:
            ranks += self._gathered[1:]
        self._gathered = self._gathered_at = None
        checkpoint['rng_state'] = dict(world_size=world_size, ranks=ranks)

    # ------------------------------------------------------------------
    # Restoring
    # ------------------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):  # not for ``load_from``
            self._pending = checkpoint.get('rng_state')

    @staticmethod
    def _rank_states(saved: dict) -> Dict[str, Any]:
        """``(world_size, per-rank states)`` of a saved ``rng_state``."""
        if 'ranks' in saved:
            return dict(world_size=saved['world_size'], ranks=saved['ranks'])
        return dict(world_size=1, ranks=[saved])  # the first round's format

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self._pending is None:
            return
        saved, self._pending = self._rank_states(self._pending), None
        rank, world_size = get_dist_info()
        states = saved['ranks']
        if saved['world_size'] != world_size or len(states) != world_size:
            runner.logger.warning(
                f'RNGStateHook: the checkpoint holds the RNG states of '
                f'{len(states)} of its {saved["world_size"]} rank(s); this '
                f'run has {world_size}. Ranks below {len(states)} restore '
                'the state saved by the same rank, the others keep their '
                'freshly seeded generators: the resumed run is not an exact '
                'continuation.')
        if rank >= len(states):
            return
        workers = getattr(runner.train_loop.dataloader, 'num_workers', 0)
        restore_rng_state(states[rank], numpy_and_python=workers > 0)
        what = 'torch, numpy and python' if workers > 0 else 'torch'
        runner.logger.info(f'RNGStateHook: rank {rank} restored its {what} '
                           f'RNG state saved at iteration {runner.iter}')
