"""Sizes CMIM's memory banks by the training set and syncs them over DDP."""
from typing import List, Tuple

from mmengine.dataset import ClassBalancedDataset, ConcatDataset, \
    RepeatDataset
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn

from cmim_dense.registry import HOOKS
from ...models.losses.contrast_memory import ContrastMemory


def distinct_samples(dataset) -> int:
    """Number of distinct ``sample_idx`` values ``dataset`` yields.

    ``RepeatDataset`` and ``ClassBalancedDataset`` repeat the samples of
    the dataset they wrap (whose indices they report), so they count as it.

    Args:
        dataset: The training set.

    Returns:
        int: The memory bank size it needs.

    Raises:
        ValueError: For a ``ConcatDataset``, whose parts number their samples
            from 0 each: their ``sample_idx`` collide in one bank.
    """
    while isinstance(dataset, (RepeatDataset, ClassBalancedDataset)):
        dataset = dataset.dataset
    if isinstance(dataset, ConcatDataset):
        raise ValueError(
            'CMIM memory bank: the training set is a ConcatDataset, whose '
            'parts number their samples from 0 each, so sample_idx is not '
            'a unique key; use one dataset or the in-batch form '
            '(memory_bank=None)')
    return len(dataset)


@HOOKS.register_module()
class CMIMMemoryHook(Hook):
    """Check (or take) CMIM's memory-bank size; broadcast the banks.

    Before training, for every :class:`~cmim_dense.models.losses.
    ContrastMemory` of the model: a bank built with ``size=None`` is sized by
    the training set (``len(runner.train_dataloader.dataset)``, through
    ``RepeatDataset``/``ClassBalancedDataset``); a bank of another size than
    the training set is refused, naming both (a larger bank would keep
    random, never updated entries among the negatives; a smaller one has no
    row for some samples). Then the banks and their normalisers ``Z`` are
    broadcast from rank 0: they start random, mmengine's DDP wrapper does not
    broadcast buffers, and ranks may be seeded differently. After resuming,
    the checkpoint's banks are checked and broadcast the same way. Models
    without a memory bank are left alone.
    """

    priority = 'ABOVE_NORMAL'

    @staticmethod
    def memories(model: nn.Module) -> List[Tuple[str, ContrastMemory]]:
        """``(name, memory)`` of every memory bank of ``model``."""
        if is_model_wrapper(model):
            model = model.module
        return [(name, m) for name, m in model.named_modules()
                if isinstance(m, ContrastMemory)]

    def before_train(self, runner) -> None:
        memories = self.memories(runner.model)
        if not memories:
            return
        dataset = runner.train_dataloader.dataset
        num_samples = distinct_samples(dataset)
        for name, memory in memories:
            rows = num_samples * memory.rows_per_sample
            if memory.size == 0:
                memory.resize_(rows)
            elif memory.size != rows:
                per = '' if memory.rows_per_sample == 1 else \
                    f' x {memory.rows_per_sample} rows per sample'
                raise ValueError(
                    f'CMIM memory bank {name}: memory_bank.size is '
                    f'{memory.size // memory.rows_per_sample} but the '
                    f'training set ({type(dataset).__name__}) has '
                    f'{num_samples} samples{per}; set memory_bank.size='
                    f'{num_samples} (or None to take it from the training '
                    'set)')
            memory.broadcast_(src=0)
        runner.logger.info(
            f'CMIMMemoryHook: {len(memories)} memory bank(s) of '
            f'{num_samples} entries (the training set), '
            f'{memories[0][1].effective_negatives} negatives per positive, '
            'broadcast from rank 0')
