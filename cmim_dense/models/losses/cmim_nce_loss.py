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

Memory-bank NCE, the form of the released code (CRD's): banks ``mem_B``,
``mem_F`` of ``M`` entries (the training set) keyed by the sample index;
``K = min(N, M - 1)`` negatives per positive. The binary-anchored side scores
``z_B,i`` against the latent bank, the positive being the bank row of the
same image ``mem_F[i]`` (from the previous update, no gradient; or the live
``z_F,i`` with ``positive='live'``) and the negatives ``mem_F[j]``, ``j``
drawn without replacement among the other entries::

    P(s) = exp(s) / Z_B,   s = z_B,i . mem_F[j] / tau,
    Z_B  = mean(exp(s)) * M   over the first batch's scores, then fixed
    L_B  = - 1/n sum_i [ log(P_i+ / (P_i+ + K/M))
                         + sum_j log((K/M) / (P_ij + K/M)) ]

and symmetrically ``L_F`` (anchor ``z_F``, latent bank -> binary bank,
``Z_F``). ``L = (L_B + L_F) / 2`` (``reduction='mean'``, ours) or
``L_B + L_F`` (``reduction='sum'``, the released code); the logged bound is
``log K - (L_B + L_F) / 2`` in both cases.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from ..utils.dist_utils import gather_with_grad, world_info
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


POSITIVES = ('bank', 'live')
REDUCTIONS = ('mean', 'sum')


def crd_nce_loss(pos_logits: Tensor, neg_logits: Tensor,
                 bank_size: int) -> Tensor:
    """One side of the memory-bank NCE, from normalised log-scores.

    With ``log P = s - log Z`` and ``K`` negatives per positive out of a bank
    of ``M`` entries (noise probability ``K/M``)::

        log D1 = log(P+ / (P+ + K/M)),  log D0 = log((K/M) / (P- + K/M))
        L = -(sum log D1 + sum log D0) / n

    computed as softplus terms (no epsilon, no overflow).

    Args:
        pos_logits (Tensor): ``(n,)`` ``log P`` of the positives.
        neg_logits (Tensor): ``(n, K)`` ``log P`` of the negatives.
        bank_size (int): ``M``.

    Returns:
        Tensor: The loss of this side.
    """
    log_noise = math.log(neg_logits.shape[1] / bank_size)
    log_d1 = -F.softplus(log_noise - pos_logits)
    log_d0 = -F.softplus(neg_logits - log_noise)
    return -(log_d1.sum() + log_d0.sum()) / pos_logits.shape[0]


def bank_scores(anchor: Tensor, positive: Tensor, negatives: Tensor,
                temperature: float) -> Tuple[Tensor, Tensor]:
    """Scores ``s = <anchor, candidate> / tau`` of a positive and negatives.

    Args:
        anchor (Tensor): ``(n, d)`` live embeddings.
        positive (Tensor): ``(n, d)`` the positive of each anchor.
        negatives (Tensor): ``(n, K, d)`` bank rows of other samples.
        temperature (float): ``tau``.

    Returns:
        tuple[Tensor, Tensor]: ``(n,)`` and ``(n, K)`` scores.
    """
    pos = (anchor * positive).sum(1) / temperature
    neg = torch.einsum('nd,nkd->nk', anchor, negatives) / temperature
    return pos, neg


@MODELS.register_module()
class CMIMNCELoss(nn.Module):
    """CMIM's contrastive loss for one recorded layer.

    Args:
        temperature (float): ``tau``. Defaults to 0.1.
        embed_dim (int): Embedding dimension (for the memory bank).
            Defaults to 128.
        memory_bank (dict, optional): The memory-bank NCE form (module
            docstring): ``dict(size=M, num_negatives=N, momentum=m,
            positive='bank', reduction='mean')``. ``size``: the training set
            length, or None to take it from the training set with
            :class:`~cmim_dense.engine.hooks.CMIMMemoryHook`;
            ``num_negatives`` (4096) and ``momentum`` (0.5): see
            :class:`ContrastMemory`; ``positive``: ``'bank'`` (the other
            side's bank row, as the released code) or ``'live'`` (the other
            side's current embedding); ``reduction``: ``'mean'`` or
            ``'sum'`` (the released code) of the two sides. None for
            in-batch InfoNCE. Defaults to None.
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
        self.memory = None
        if memory_bank is not None:
            memory_bank = dict(memory_bank)
            self.positive = memory_bank.pop('positive', 'bank')
            self.reduction = memory_bank.pop('reduction', 'mean')
            if self.positive not in POSITIVES:
                raise ValueError(f'memory_bank.positive must be one of '
                                 f'{POSITIVES}, got {self.positive!r}')
            if self.reduction not in REDUCTIONS:
                raise ValueError(f'memory_bank.reduction must be one of '
                                 f'{REDUCTIONS}, got {self.reduction!r}')
            if 'size' not in memory_bank:
                raise ValueError(
                    'memory_bank needs size: the training set length, or '
                    'None to take it from the training set with '
                    'CMIMMemoryHook')
            self.memory = ContrastMemory(dim=embed_dim, **memory_bank)

    def forward(self,
                z_binary: Tensor,
                z_latent: Tensor,
                sample_idx: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Loss and mutual-information lower bound.

        Args:
            z_binary, z_latent (Tensor): ``(n, d)`` normalised embeddings.
            sample_idx (Tensor, optional): ``(n,)`` dataset indices; needed
                by the memory bank.

        Returns:
            tuple[Tensor, Tensor]: The loss and the detached bound
            (``log B - L`` in-batch, ``log K - (L_B + L_F) / 2`` with the
            memory bank).
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
        loss_b, loss_f = self.memory_losses(z_binary, z_latent, sample_idx)
        mean = (loss_b + loss_f) / 2
        loss = loss_b + loss_f if self.reduction == 'sum' else mean
        bound = math.log(self.memory.effective_negatives) - mean.detach()
        return loss, bound

    def memory_losses(self, z_binary: Tensor, z_latent: Tensor,
                      sample_idx: Tensor) -> Tuple[Tensor, Tensor]:
        """``(L_B, L_F)`` of the memory-bank form; updates the banks (and
        sets Z on the first call) in training mode."""
        memory = self.memory
        memory.check_indices(sample_idx)
        if self.training and not memory._synced and world_info()[1] > 1:
            memory.broadcast_()  # no CMIMMemoryHook did it before training
        negatives = memory.sample_negatives(sample_idx)
        bank_b = memory.bank_binary.to(z_binary)
        bank_f = memory.bank_latent.to(z_latent)
        if self.positive == 'bank':
            pos_b, pos_f = bank_b[sample_idx], bank_f[sample_idx]
        else:
            pos_b, pos_f = z_binary, z_latent
        # binary anchor vs the latent bank, latent anchor vs the binary bank
        pos_bf, neg_bf = bank_scores(z_binary, pos_f, bank_f[negatives],
                                     self.temperature)
        pos_fb, neg_fb = bank_scores(z_latent, pos_b, bank_b[negatives],
                                     self.temperature)
        log_z_b, log_z_f = memory.log_normalizers((pos_bf, neg_bf),
                                                  (pos_fb, neg_fb))
        loss_b = crd_nce_loss(pos_bf - log_z_b, neg_bf - log_z_b, memory.size)
        loss_f = crd_nce_loss(pos_fb - log_z_f, neg_fb - log_z_f, memory.size)
        if self.training:
            memory.update(sample_idx, z_binary.detach(), z_latent.detach())
        return loss_b, loss_f
