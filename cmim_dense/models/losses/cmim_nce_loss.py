"""CMIM's contrastive bound on the mutual information of binary and latent
activations (Shang et al., ECCV 2022).

Positive pair: the embeddings ``(z_B,i, z_F,i)`` of the binary and the latent
activation of the same image; negatives: the other side's embedding of other
images. Both forms are symmetric over the two sides.

In-batch InfoNCE (default), over the global batch of ``B`` images (gathered
across DDP ranks)::

    L = - 1/2 mean_i [ log softmax_j(z_B,i . z_F,j / tau)_i
                      + log softmax_j(z_F,i . z_B,j / tau)_i ]
    I(A_B; A_F) >= log B - L

Memory-bank NCE (CRD form), ``N`` negatives per positive drawn from banks of
``M`` entries keyed by the sample index, critic
``h(s) = exp(s) / (exp(s) + N / M)`` with ``s = z . z' / tau``::

    L_side = - mean_i log h(s_pos,i) - N * mean_{i,j} log(1 - h(s_neg,ij))
    L = (L_B-anchored + L_F-anchored) / 2,    logged bound: log N - L
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from ..utils.dist_utils import gather_with_grad
from .contrast_memory import ContrastMemory


def info_nce_loss(z_binary: Tensor, z_latent: Tensor,
                  temperature: float) -> Tuple[Tensor, int]:
    """Symmetric in-batch InfoNCE over the global batch.

    Args:
        z_binary (Tensor): ``(n, d)`` L2-normalised embeddings of ``a_B``.
        z_latent (Tensor): ``(n, d)`` L2-normalised embeddings of ``a_F``.
        temperature (float): ``tau``.

    Returns:
        tuple[Tensor, int]: The loss (mean over this rank's samples) and the
        number of candidates per anchor (the global batch size ``B``).
    """
    all_binary, offset = gather_with_grad(z_binary)
    all_latent, _ = gather_with_grad(z_latent)
    if all_binary.shape[0] < 2:
        raise ValueError(
            'CMIM in-batch InfoNCE needs at least 2 images in the (global) '
            'batch to have negatives; use batch_size >= 2 or a memory bank '
            '(memory_bank=dict(size=DATASET_LENGTH))')
    targets = torch.arange(
        offset, offset + z_binary.shape[0], device=z_binary.device)
    loss_b = F.cross_entropy(z_binary @ all_latent.t() / temperature, targets)
    loss_f = F.cross_entropy(z_latent @ all_binary.t() / temperature, targets)
    return (loss_b + loss_f) / 2, all_binary.shape[0]


def _nce_side(anchor: Tensor, positive: Tensor, negatives: Tensor,
              temperature: float, log_noise: float) -> Tensor:
    """``- mean log h(pos) - N mean log(1 - h(neg))`` for one anchor side."""
    pos = (anchor * positive).sum(1) / temperature
    neg = torch.einsum('nd,nkd->nk', anchor, negatives) / temperature
    # log h(s) = -softplus(log(N/M) - s); log(1 - h(s)) = -softplus(s - ...)
    log_h_pos = -F.softplus(log_noise - pos)
    log_not_h_neg = -F.softplus(neg - log_noise)
    return -log_h_pos.mean() - negatives.shape[1] * log_not_h_neg.mean()


def memory_nce_loss(z_binary: Tensor, z_latent: Tensor,
                    negatives_binary: Tensor, negatives_latent: Tensor,
                    temperature: float, bank_size: int) -> Tensor:
    """Symmetric CRD-form NCE with negatives from memory banks.

    Args:
        z_binary, z_latent (Tensor): ``(n, d)`` embeddings (positives).
        negatives_binary, negatives_latent (Tensor): ``(n, N, d)`` bank
            entries of other samples, from the binary / latent bank.
        temperature (float): ``tau``.
        bank_size (int): ``M``.

    Returns:
        Tensor: The loss.
    """
    log_noise = math.log(negatives_binary.shape[1] / bank_size)
    loss_b = _nce_side(z_binary, z_latent, negatives_latent, temperature,
                       log_noise)
    loss_f = _nce_side(z_latent, z_binary, negatives_binary, temperature,
                       log_noise)
    return (loss_b + loss_f) / 2


@MODELS.register_module()
class CMIMNCELoss(nn.Module):
    """CMIM's contrastive loss for one recorded layer.

    Args:
        temperature (float): ``tau``. Defaults to 0.1.
        embed_dim (int): Embedding dimension (for the memory bank).
            Defaults to 128.
        memory_bank (dict, optional): ``dict(size=M, num_negatives=N,
            momentum=m)`` for the memory-bank NCE form; None for in-batch
            InfoNCE. Defaults to None.
    """

    def __init__(self,
                 temperature: float = 0.1,
                 embed_dim: int = 128,
                 memory_bank: Optional[dict] = None) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'temperature must be positive, got '
                             f'{temperature}')
        self.temperature = temperature
        self.memory = None if memory_bank is None else ContrastMemory(
            dim=embed_dim, **memory_bank)

    def forward(self,
                z_binary: Tensor,
                z_latent: Tensor,
                sample_idx: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Loss and mutual-information lower bound (``log N - L``).

        Args:
            z_binary, z_latent (Tensor): ``(n, d)`` normalised embeddings.
            sample_idx (Tensor, optional): ``(n,)`` dataset indices; needed
                by the memory bank.

        Returns:
            tuple[Tensor, Tensor]: The loss and the detached bound.
        """
        if z_binary.shape != z_latent.shape:
            raise ValueError(f'embeddings differ in shape: binary '
                             f'{tuple(z_binary.shape)}, latent '
                             f'{tuple(z_latent.shape)}')
        if self.memory is None:
            loss, candidates = info_nce_loss(z_binary, z_latent,
                                             self.temperature)
            return loss, math.log(candidates) - loss.detach()
        if sample_idx is None:
            raise ValueError(
                'the CMIM memory bank needs the sample index of every image: '
                "add 'sample_idx' to PackSegInputs' meta_keys")
        memory = self.memory
        memory.check_indices(sample_idx)
        negatives = memory.sample_negatives(sample_idx)
        loss = memory_nce_loss(z_binary, z_latent,
                               memory.bank_binary[negatives].to(z_binary),
                               memory.bank_latent[negatives].to(z_latent),
                               self.temperature, memory.size)
        if self.training:
            memory.update(sample_idx, z_binary.detach(), z_latent.detach())
        return loss, math.log(memory.num_negatives) - loss.detach()
