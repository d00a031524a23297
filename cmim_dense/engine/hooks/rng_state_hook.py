"""Save the global torch RNG state in checkpoints, restore it on resume."""
from typing import Optional

import torch
from mmengine.hooks import Hook

from cmim_dense.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Make resumed runs draw the same random numbers as uninterrupted ones.

    mmengine re-seeds on resume but does not save the generators' states,
    so everything the model draws from torch's global RNG after a resume
    (dropout masks, CMIM's memory-bank negatives) differs from the
    uninterrupted run. This hook stores torch's CPU (and CUDA) RNG state in
    every checkpoint (``checkpoint['rng_state']``) and restores it right
    before the first resumed iteration, i.e. after the train loop has
    skipped the batches already trained on.

    numpy's and Python's RNGs are deliberately not restored: with
    ``num_workers=0`` only the data pipeline draws from them, and the
    loop's skip of the consumed batches replays those draws, which leaves
    them in the uninterrupted run's state (restoring them would rewind
    them by the batch fetched before the first resumed iteration). With
    dataloader workers, each worker reseeds from torch's RNG per epoch.

    Note:
        Checkpoints are written by rank 0 only, so in distributed runs every
        rank resumes with rank 0's torch state.
    """

    priority = 'VERY_HIGH'  # restore before any other hook draws

    def __init__(self) -> None:
        self._pending: Optional[dict] = None

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(torch=torch.get_rng_state())
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint['rng_state'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):  # not for ``load_from``
            self._pending = checkpoint.get('rng_state')

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self._pending is None:
            return
        state, self._pending = self._pending, None
        torch.set_rng_state(state['torch'])
        cuda_states = state.get('cuda')
        if cuda_states and torch.cuda.is_available() \
                and len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
        runner.logger.info(f'RNGStateHook: restored the torch RNG state '
                           f'saved at iteration {runner.iter}')
