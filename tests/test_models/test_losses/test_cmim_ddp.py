"""CMIM's negatives span the global batch under 2-process gloo DDP."""
import os.path as osp

import torch
import torch.nn.functional as F
from cmim_ddp_worker import global_embeddings

from cmim_dense.models.losses import ContrastMemory, info_nce_loss

HERE = osp.dirname(osp.abspath(__file__))


def test_info_nce_and_memory_over_two_ranks(tmp_path, run_torchrun):
    run_torchrun(
        osp.join(HERE, 'cmim_ddp_worker.py'), tmp_path, pythonpath=[HERE])
    ranks = [torch.load(tmp_path / f'rank{r}.pt') for r in (0, 1)]

    # single process on the concatenated batch of 4
    zb, zf = global_embeddings()
    zb.requires_grad_(True)
    zf.requires_grad_(True)
    loss, candidates = info_nce_loss(zb, zf, 0.2)
    loss.backward()
    assert all(r['candidates'] == 4 == candidates for r in ranks)
    # the global loss is the mean of the ranks' losses (what DDP optimises)
    mean = (ranks[0]['loss'] + ranks[1]['loss']) / 2
    assert torch.allclose(mean, loss.detach())
    # each rank's embeddings receive the gradient of every rank's loss; DDP's
    # averaging over 2 ranks then gives the single-process gradient
    grad_b = torch.cat([r['grad_b'] for r in ranks]) / 2
    grad_f = torch.cat([r['grad_f'] for r in ranks]) / 2
    assert torch.allclose(grad_b, zb.grad)
    assert torch.allclose(grad_f, zf.grad)

    # memory banks: identical on both ranks, updated with all 4 samples
    torch.manual_seed(0)
    memory = ContrastMemory(size=6, dim=8, momentum=0.5).double()
    expected = F.normalize(0.5 * memory.bank_binary[:4] + 0.5 * zb.detach())
    for r in ranks:
        assert torch.equal(r['bank_binary'], ranks[0]['bank_binary'])
        assert torch.allclose(r['bank_binary'][:4], expected)
        assert torch.equal(r['bank_binary'][4:], memory.bank_binary[4:])
