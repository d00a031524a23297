"""Memory banks of embeddings for CRD-style NCE with many negatives."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..utils.dist_utils import gather_no_grad


class ContrastMemory(nn.Module):
    """Two banks (binary side, latent side) of L2-normalised embeddings.

    Keyed by the dataset's sample index; banks are buffers (saved in
    checkpoints, so they resume) and never receive gradients. After each
    training step the entries of the batch's samples are updated with
    ``mem[i] <- normalize(m * mem[i] + (1 - m) * z_i)``, with the embeddings
    of all ranks, so the banks stay identical across DDP ranks.

    Args:
        size (int): Number of entries ``M`` (at least the dataset length).
        dim (int): Embedding dimension.
        num_negatives (int): Negatives ``N`` drawn per positive.
        momentum (float): ``m``. Defaults to 0.5.
    """

    def __init__(self,
                 size: int,
                 dim: int,
                 num_negatives: int = 4096,
                 momentum: float = 0.5) -> None:
        super().__init__()
        if size < 2:
            raise ValueError(f'memory bank size must be >= 2, got {size}')
        if num_negatives < 1:
            raise ValueError(f'num_negatives must be >= 1, got '
                             f'{num_negatives}')
        if not 0 <= momentum < 1:
            raise ValueError(f'momentum must lie in [0, 1), got {momentum}')
        self.size, self.num_negatives, self.momentum = size, num_negatives, \
            momentum
        self.register_buffer('bank_binary',
                             F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer('bank_latent',
                             F.normalize(torch.randn(size, dim), dim=1))

    def check_indices(self, indices: Tensor) -> None:
        if indices.numel() and (int(indices.min()) < 0
                                or int(indices.max()) >= self.size):
            raise ValueError(
                f'sample_idx {indices.tolist()} out of the memory bank '
                f'[0, {self.size}): set memory_bank.size to at least the '
                'dataset length')

    def sample_negatives(self, indices: Tensor) -> Tensor:
        """``(n, N)`` bank indices drawn uniformly, never the positive's."""
        draws = torch.randint(
            0,
            self.size - 1, (indices.shape[0], self.num_negatives),
            device=indices.device)
        return draws + (draws >= indices[:, None]).long()

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
        return (f'size={self.size}, num_negatives={self.num_negatives}, '
                f'momentum={self.momentum}')
