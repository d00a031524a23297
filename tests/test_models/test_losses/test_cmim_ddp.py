"""CMIM's negatives span the global batch under 2-process gloo DDP; memory
banks are identical on every rank whatever the ranks' seeds."""
import os.path as osp

import torch
import torch.nn.functional as F
from cmim_ddp_worker import critic, global_embeddings, memory_bank

from cmim_dense.models.losses.cmim_nce_loss import info_nce_loss

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

    # memory banks: different seeds gave different banks; after the hook's
    # broadcast both hold rank 0's, and after a step (all 4 samples, m=0.8)
    # they are still identical
    rank0 = memory_bank(seed=0)
    assert not torch.equal(ranks[0]['initial_binary'],
                           ranks[1]['initial_binary'])
    for r in ranks:
        assert torch.equal(r['broadcast_binary'], rank0.bank_binary)
        assert torch.equal(r['bank_binary'], ranks[0]['bank_binary'])
        assert torch.equal(r['bank_latent'], ranks[0]['bank_latent'])
    expected = F.normalize(0.8 * rank0.bank_binary[:4] + 0.2 * zb.detach())
    assert torch.allclose(ranks[0]['bank_binary'][:4], expected)
    assert torch.equal(ranks[0]['bank_binary'][4:], rank0.bank_binary[4:])

    # the loss without the hook: banks and Z identical on both ranks, equal
    # to one process on the global batch of 4 (from rank 0's banks)
    single = critic(seed=10)
    single.train()
    single_loss, _ = single(zb.detach(), zf.detach(), torch.arange(4))
    states = [r['critic_state'] for r in ranks]
    for key, value in single.state_dict().items():
        for state in states:
            assert torch.allclose(state[key], value), key
    mean = (ranks[0]['critic_loss'] + ranks[1]['critic_loss']) / 2
    assert torch.allclose(mean, single_loss.detach())
