"""Run by torchrun from test_cmim_ddp.py: 2 gloo ranks, 2 images each."""
import os
import sys
from types import SimpleNamespace

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmengine.logging import MMLogger
from torch import nn

from cmim_dense.engine.hooks import CMIMMemoryHook
from cmim_dense.models.losses import CMIMNCELoss
from cmim_dense.models.losses.cmim_nce_loss import info_nce_loss
from cmim_dense.models.losses.contrast_memory import ContrastMemory

BANK_SIZE = 6


def global_embeddings():
    gen = torch.Generator().manual_seed(0)
    zb = F.normalize(torch.randn(4, 8, generator=gen, dtype=torch.float64))
    zf = F.normalize(torch.randn(4, 8, generator=gen, dtype=torch.float64))
    return zb, zf


def memory_bank(seed: int) -> ContrastMemory:
    torch.manual_seed(seed)
    return ContrastMemory(size=BANK_SIZE, dim=8, momentum=0.8).double()


def critic(seed: int) -> CMIMNCELoss:
    """All other entries as negatives (num_negatives >= M): no sampling."""
    torch.manual_seed(seed)
    return CMIMNCELoss(
        temperature=0.2,
        embed_dim=8,
        memory_bank=dict(size=BANK_SIZE, num_negatives=8,
                         momentum=0.8)).double()


def main(out_dir: str) -> None:
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    zb, zf = global_embeddings()
    local_b = zb[2 * rank:2 * rank + 2].clone().requires_grad_(True)
    local_f = zf[2 * rank:2 * rank + 2].clone().requires_grad_(True)
    loss, candidates = info_nce_loss(local_b, local_f, 0.2)
    loss.backward()
    indices = torch.tensor([2 * rank, 2 * rank + 1])

    # banks seeded differently per rank; the hook broadcasts rank 0's
    memory = memory_bank(seed=rank)
    initial = memory.bank_binary.clone()
    runner = SimpleNamespace(
        model=nn.ModuleDict(dict(critic=memory)),
        train_dataloader=SimpleNamespace(dataset=list(range(BANK_SIZE))),
        logger=MMLogger.get_instance('cmim_ddp_worker'))
    CMIMMemoryHook().before_train(runner)
    broadcast = memory.bank_binary.clone()
    memory.update(indices, local_b.detach(), local_f.detach())

    # the loss with a bank, no hook: it broadcasts on its first step itself;
    # Z comes from the scores of the global batch
    bank_critic = critic(seed=10 + rank)
    bank_critic.train()
    bank_loss, _ = bank_critic(local_b.detach(), local_f.detach(), indices)
    torch.save(
        dict(
            loss=loss.detach(),
            candidates=candidates,
            grad_b=local_b.grad,
            grad_f=local_f.grad,
            initial_binary=initial,
            broadcast_binary=broadcast,
            bank_binary=memory.bank_binary,
            bank_latent=memory.bank_latent,
            critic_loss=bank_loss.detach(),
            critic_state=bank_critic.state_dict()),
        os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
