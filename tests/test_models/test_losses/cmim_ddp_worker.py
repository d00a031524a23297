"""Run by torchrun from test_cmim_ddp.py: 2 gloo ranks, 2 images each."""
import os
import sys

import torch
import torch.distributed as dist
import torch.nn.functional as F

from cmim_dense.models.losses import ContrastMemory, info_nce_loss


def global_embeddings():
    gen = torch.Generator().manual_seed(0)
    zb = F.normalize(torch.randn(4, 8, generator=gen, dtype=torch.float64))
    zf = F.normalize(torch.randn(4, 8, generator=gen, dtype=torch.float64))
    return zb, zf


def main(out_dir: str) -> None:
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    zb, zf = global_embeddings()
    local_b = zb[2 * rank:2 * rank + 2].clone().requires_grad_(True)
    local_f = zf[2 * rank:2 * rank + 2].clone().requires_grad_(True)
    loss, candidates = info_nce_loss(local_b, local_f, 0.2)
    loss.backward()

    torch.manual_seed(0)  # identical banks on both ranks
    memory = ContrastMemory(size=6, dim=8, momentum=0.5).double()
    indices = torch.tensor([2 * rank, 2 * rank + 1])
    memory.update(indices, local_b.detach(), local_f.detach())
    torch.save(
        dict(
            loss=loss.detach(),
            candidates=candidates,
            grad_b=local_b.grad,
            grad_f=local_f.grad,
            bank_binary=memory.bank_binary,
            bank_latent=memory.bank_latent),
        os.path.join(out_dir, f'rank{rank}.pt'))
    dist.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
