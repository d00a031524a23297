"""Memory banks of embeddings for CRD-style NCE with many negatives."""
import math
from typing import Optional, Sequence, Tuple

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.logging import print_log
from torch import Tensor, nn

from ..utils.dist_utils import gather_no_grad, world_info


class ContrastMemory(nn.Module):
    """Two banks (binary side, latent side) of L2-normalised embeddings.

    Keyed by the dataset's sample index. Everything is a buffer (saved in
    checkpoints, so it resumes) and never receives gradients:

    - ``bank_binary``, ``bank_latent``: ``(M, d)``; after each training step
      the entries of the global batch's samples are updated with
      ``mem[i] <- normalize(m * mem[i] + (1 - m) * z_i)``;
    - ``log_normalizer``: ``(log Z_B, log Z_F)``, the constants dividing the
      scores of the binary-anchored and the latent-anchored side, set once
      (:meth:`log_normalizers`) from the first batch's scores,
      ``Z = mean(exp(s)) * M``, and ``normalizer_set`` (0 until then).

    Banks start random. Under DDP every rank must hold the same banks:
    :meth:`broadcast_` copies rank 0's state to all ranks (called by
    :class:`~cmim_dense.engine.hooks.CMIMMemoryHook` before training, and by
    the loss on its first distributed training step if nothing did it
    before); later updates use the embeddings of all ranks, so the banks stay
    identical.

    Args:
        size (int, optional): Number of entries ``M``, the training set
            length. None: unknown until
            :class:`~cmim_dense.engine.hooks.CMIMMemoryHook` takes it from the
            training set (or a checkpoint's banks are loaded).
        dim (int): Embedding dimension.
        num_negatives (int): Negatives ``N`` drawn per positive, without
            replacement and never the positive's own index; with
            ``N >= M`` every other entry (``M - 1``) is used.
            Defaults to 4096.
        momentum (float): ``m``. Defaults to 0.5.
        rows_per_sample (int): Bank rows per training sample (CMIM's pixel
            form keeps one row per sampled location: ``P``); ``size``
            counts rows, and :class:`~cmim_dense.engine.hooks.CMIMMemoryHook`
            expects ``training set length * rows_per_sample``. Defaults to 1.
    """

    def __init__(self,
                 size: Optional[int],
                 dim: int,
                 num_negatives: int = 4096,
                 momentum: float = 0.5,
                 rows_per_sample: int = 1) -> None:
        super().__init__()
        if size is not None and (isinstance(size, bool)
                                 or not isinstance(size, int) or size < 2):
            raise ValueError(f'memory_bank.size must be an int >= 2 (the '
                             f'training set length) or None, got {size!r}')
        if num_negatives < 1:
            raise ValueError(f'num_negatives must be >= 1, got '
                             f'{num_negatives}')
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must lie in [0, 1), got {momentum}')
        if isinstance(rows_per_sample, bool) or not isinstance(
                rows_per_sample, int) or rows_per_sample < 1:
            raise ValueError(f'rows_per_sample must be an int >= 1, got '
                             f'{rows_per_sample!r}')
        self.dim, self.num_negatives, self.momentum = dim, num_negatives, \
            momentum
        self.rows_per_sample = rows_per_sample
        self.auto_size = size is None
        self.register_buffer('bank_binary', torch.empty(0, dim))
        self.register_buffer('bank_latent', torch.empty(0, dim))
        self.register_buffer('log_normalizer', torch.zeros(2))
        self.register_buffer('normalizer_set', torch.zeros((),
                                                           dtype=torch.long))
        self._synced = False  # broadcast from rank 0 since the last resize
        self._logged_all_others = False
        if size is not None:
            self.resize_(size)

    @property
    def size(self) -> int:
        """``M``; 0 while not yet sized (``size=None``)."""
        return self.bank_binary.shape[0]

    @property
    def effective_negatives(self) -> int:
        """Negatives actually used per positive: ``min(N, M - 1)``."""
        return min(self.num_negatives, self.size - 1)

    @torch.no_grad()
    def resize_(self, size: int) -> None:
        """(Re)allocate random banks of ``size`` entries and unset Z."""
        if size < 2:
            raise ValueError(f'memory bank size must be >= 2, got {size}')
        device = self.bank_binary.device
        for name in ('bank_binary', 'bank_latent'):
            bank = F.normalize(
                torch.randn(size, self.dim, device=device), dim=1)
            setattr(self, name, bank)
        self.log_normalizer.zero_()
        self.normalizer_set.zero_()
        self._synced = False

    def _load_from_state_dict(self, state_dict, prefix, *args,
                              **kwargs) -> None:
        # a bank sized from the data (size=None) takes the checkpoint's size
        saved = state_dict.get(f'{prefix}bank_binary')
        if self.auto_size and saved is not None and saved.dim() == 2 \
                and saved.shape[0] != self.size:
            self.resize_(saved.shape[0])
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._synced = False

    @torch.no_grad()
    def broadcast_(self, src: int = 0) -> None:
        """Copy rank ``src``'s banks and normalisers to every rank."""
        _, world = world_info()
        if world > 1:
            for buffer in self.buffers():
                dist.broadcast(buffer, src)
        self._synced = True

    def check_indices(self, indices: Tensor) -> None:
        """Refuse an unsized bank or indices outside ``[0, M)``."""
        if self.size == 0:
            raise RuntimeError(
                'the CMIM memory bank has no size yet (memory_bank.size='
                'None): add dict(type="CMIMMemoryHook") to custom_hooks, '
                'which takes it from the training set, or set '
                'memory_bank.size to the training set length')
        if indices.numel() and (int(indices.min()) < 0
                                or int(indices.max()) >= self.size):
            raise ValueError(
                f'sample_idx {indices.tolist()} out of the memory bank '
                f'[0, {self.size}): set memory_bank.size to the training set '
                'length')

    def sample_negatives(self, indices: Tensor) -> Tensor:
        """``(n, K)`` bank indices of negatives, ``K = min(N, M - 1)``.

        Each row is drawn uniformly without replacement from the ``M - 1``
        entries other than the positive's; with ``N >= M - 1`` it is all of
        them (in index order), which is logged once.
        """
        num, size = indices.shape[0], self.size
        if self.num_negatives >= size - 1:
            if self.num_negatives >= size and not self._logged_all_others:
                print_log(
                    f'CMIM memory bank: num_negatives={self.num_negatives} '
                    f'>= bank size {size}: every positive uses all '
                    f'{size - 1} other entries as negatives',
                    logger='current')
                self._logged_all_others = True
            others = torch.arange(size - 1, device=indices.device)
            others = others.expand(num, -1)
        else:
            keys = torch.rand(num, size - 1, device=indices.device)
            others = keys.topk(self.num_negatives, dim=1).indices
        # skip the positive: others index the M - 1 entries without it
        return others + (others >= indices[:, None]).long()

    @torch.no_grad()
    def log_normalizers(
            self, scores_binary: Sequence[Tensor],
            scores_latent: Sequence[Tensor]) -> Tuple[Tensor, Tensor]:
        """``(log Z_B, log Z_F)``, set from these scores on the first call.

        ``Z = mean(exp(s)) * M`` over every score of the (global) batch,
        positives included, one per anchor side, then fixed.

        Args:
            scores_binary (Sequence[Tensor]): Scores ``s`` (already divided
                by the temperature) of the binary-anchored side, e.g. those
                of the positives and of the negatives.
            scores_latent (Sequence[Tensor]): The same for the
                latent-anchored side.

        Returns:
            tuple[Tensor, Tensor]: Two scalars (no gradient).
        """
        if not int(self.normalizer_set):
            sides = [
                torch.cat([s.detach().double().flatten() for s in scores])
                for scores in (scores_binary, scores_latent)
            ]
            local = torch.stack([torch.logsumexp(s, 0) for s in sides])
            counts = torch.tensor([[float(s.numel()) for s in sides]],
                                  dtype=local.dtype,
                                  device=local.device)
            lse = gather_no_grad(local[None])  # (world, 2)
            total = gather_no_grad(counts).sum(0)
            log_mean = torch.logsumexp(lse, 0) - total.log()
            self.log_normalizer.copy_(log_mean + math.log(self.size))
            self.normalizer_set.fill_(1)
        return self.log_normalizer[0], self.log_normalizer[1]

    @torch.no_grad()
    def update(self, indices: Tensor, z_binary: Tensor,
               z_latent: Tensor) -> None:
        """Momentum update with the embeddings of every rank."""
        indices = gather_no_grad(indices)
        for bank, z in ((self.bank_binary, z_binary), (self.bank_latent,
                                                       z_latent)):
            z = gather_no_grad(z).to(bank.dtype)
            mixed = self.momentum * bank[indices] + (1 - self.momentum) * z
            bank[indices] = F.normalize(mixed, dim=1)

    def extra_repr(self) -> str:
        return (f'size={self.size or None}, dim={self.dim}, '
                f'num_negatives={self.num_negatives}, '
                f'momentum={self.momentum}')
