import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cmim_dense.models.losses import (CMIMNCELoss, ContrastMemory,
                                      info_nce_loss, memory_nce_loss)


def explicit_info_nce(zb, zf, tau):
    """Symmetric InfoNCE written out with loops (numpy)."""
    zb, zf = np.asarray(zb, float), np.asarray(zf, float)
    n = len(zb)
    total = 0.0
    for anchors, others in ((zb, zf), (zf, zb)):
        for i in range(n):
            scores = [np.exp(anchors[i] @ others[j] / tau) for j in range(n)]
            total += -np.log(scores[i] / sum(scores))
    return total / (2 * n)


def explicit_memory_nce(zb, zf, neg_b, neg_f, tau, bank_size):
    """CRD-form NCE (both anchors) with h(s) = e^s / (e^s + N / M)."""
    zb, zf = np.asarray(zb, float), np.asarray(zf, float)
    neg_b, neg_f = np.asarray(neg_b, float), np.asarray(neg_f, float)
    n, num_neg = neg_b.shape[:2]
    noise = num_neg / bank_size

    def h(s):
        return np.exp(s) / (np.exp(s) + noise)

    total = 0.0
    for anchors, positives, negatives in ((zb, zf, neg_f), (zf, zb, neg_b)):
        pos = [np.log(h(anchors[i] @ positives[i] / tau)) for i in range(n)]
        neg = [
            np.log(1 - h(anchors[i] @ negatives[i, j] / tau)) for i in range(n)
            for j in range(num_neg)
        ]
        total += -np.mean(pos) - num_neg * np.mean(neg)
    return total / 2


def test_info_nce_hand_value_orthogonal():
    z = torch.eye(2)
    loss, candidates = info_nce_loss(z, z, temperature=1.0)
    assert candidates == 2
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-1)))
    loss, _ = info_nce_loss(z, z, temperature=0.5)
    assert float(loss) == pytest.approx(math.log(1 + math.exp(-2)))


def test_info_nce_matches_explicit_formula():
    gen = torch.Generator().manual_seed(0)
    zb = F.normalize(torch.randn(5, 3, generator=gen, dtype=torch.float64))
    zf = F.normalize(torch.randn(5, 3, generator=gen, dtype=torch.float64))
    loss, _ = info_nce_loss(zb, zf, 0.2)
    assert float(loss) == pytest.approx(explicit_info_nce(zb, zf, 0.2))


def test_memory_nce_matches_explicit_formula():
    gen = torch.Generator().manual_seed(1)

    def unit(*shape):
        return F.normalize(
            torch.randn(*shape, generator=gen, dtype=torch.float64), dim=-1)

    zb, zf, neg_b, neg_f = unit(3, 4), unit(3, 4), unit(3, 5, 4), unit(3, 5, 4)
    loss = memory_nce_loss(zb, zf, neg_b, neg_f, 0.5, bank_size=20)
    assert float(loss) == pytest.approx(
        explicit_memory_nce(zb, zf, neg_b, neg_f, 0.5, 20))


@pytest.mark.parametrize('memory', [None, dict(size=64, num_negatives=16)])
def test_aligned_pairs_have_lower_loss_than_shuffled(memory):
    torch.manual_seed(0)
    critic = CMIMNCELoss(temperature=0.1, embed_dim=128, memory_bank=memory)
    critic.eval()  # no bank update between the two evaluations
    # embeddings live in the first 64 dims; bank entries in the last 64, so
    # the negative term is the same for both pairings
    z = F.normalize(torch.cat([torch.randn(6, 64), torch.zeros(6, 64)], 1))
    if critic.memory is not None:
        for bank in (critic.memory.bank_binary, critic.memory.bank_latent):
            bank[:, :64] = 0
            bank.copy_(F.normalize(bank))
    idx = torch.arange(6)
    torch.manual_seed(1)
    aligned, bound_aligned = critic(z, z, idx)
    torch.manual_seed(1)
    shuffled, bound_shuffled = critic(z, z[torch.tensor([1, 2, 3, 4, 5, 0])],
                                      idx)
    assert aligned < shuffled
    assert bound_aligned > bound_shuffled


def test_bound_is_log_candidates_minus_loss():
    z = F.normalize(torch.randn(4, 8))
    loss, bound = CMIMNCELoss()(z, z)
    assert float(bound) == pytest.approx(math.log(4) - float(loss))


def test_memory_bank_forward_uses_bank_and_updates():
    torch.manual_seed(0)
    critic = CMIMNCELoss(
        temperature=0.5,
        embed_dim=4,
        memory_bank=dict(size=10, num_negatives=3, momentum=0.5))
    memory = critic.memory
    zb = F.normalize(torch.randn(2, 4))
    zf = F.normalize(torch.randn(2, 4))
    idx = torch.tensor([3, 7])
    negatives = torch.tensor([[0, 1, 2], [4, 5, 9]])
    memory.sample_negatives = lambda indices: negatives
    old_b, old_f = memory.bank_binary.clone(), memory.bank_latent.clone()
    loss, _ = critic(zb, zf, idx)
    expected = explicit_memory_nce(zb, zf, old_b[negatives], old_f[negatives],
                                   0.5, 10)
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    # momentum update of exactly the batch's entries, renormalised
    assert torch.allclose(memory.bank_binary[idx],
                          F.normalize(0.5 * old_b[idx] + 0.5 * zb))
    assert torch.allclose(memory.bank_latent[idx],
                          F.normalize(0.5 * old_f[idx] + 0.5 * zf))
    untouched = torch.tensor([i for i in range(10) if i not in (3, 7)])
    assert torch.equal(memory.bank_binary[untouched], old_b[untouched])
    # no update in eval mode
    critic.eval()
    before = memory.bank_binary.clone()
    critic(zb, zf, idx)
    assert torch.equal(memory.bank_binary, before)


def test_negatives_never_the_positive():
    memory = ContrastMemory(size=5, dim=2, num_negatives=200)
    idx = torch.tensor([0, 2, 4])
    neg = memory.sample_negatives(idx)
    assert neg.shape == (3, 200)
    assert (neg != idx[:, None]).all()
    assert neg.min() >= 0 and neg.max() <= 4
    assert set(neg[1].tolist()) == {0, 1, 3, 4}


def test_memory_bank_state_resumes(tmp_path):
    critic = CMIMNCELoss(memory_bank=dict(size=8, num_negatives=2))
    critic(
        F.normalize(torch.randn(2, 128)), F.normalize(torch.randn(2, 128)),
        torch.tensor([1, 2]))
    torch.save(critic.state_dict(), tmp_path / 'c.pth')
    fresh = CMIMNCELoss(memory_bank=dict(size=8, num_negatives=2))
    fresh.load_state_dict(torch.load(tmp_path / 'c.pth', weights_only=True))
    assert torch.equal(fresh.memory.bank_binary, critic.memory.bank_binary)
    assert torch.equal(fresh.memory.bank_latent, critic.memory.bank_latent)


def test_errors():
    z = F.normalize(torch.randn(1, 8))
    with pytest.raises(ValueError, match='at least 2 images'):
        CMIMNCELoss()(z, z)
    with pytest.raises(ValueError, match='differ in shape'):
        CMIMNCELoss()(torch.zeros(2, 8), torch.zeros(2, 4))
    banked = CMIMNCELoss(embed_dim=8, memory_bank=dict(size=4))
    with pytest.raises(ValueError, match='sample_idx'):
        banked(z, z)
    with pytest.raises(ValueError, match='out of the memory bank'):
        banked(z, z, torch.tensor([4]))
    with pytest.raises(ValueError, match='temperature'):
        CMIMNCELoss(temperature=0)
    with pytest.raises(ValueError, match='momentum'):
        ContrastMemory(4, 2, momentum=1.0)
