import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cmim_dense.models.losses import CMIMNCELoss
from cmim_dense.models.losses.cmim_nce_loss import info_nce_loss
from cmim_dense.models.losses.contrast_memory import ContrastMemory


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


# the memory-bank form with the live positive (with the bank positive, the
# pairing of the live embeddings does not enter the positive term)
@pytest.mark.parametrize(
    'memory', [None, dict(size=64, num_negatives=16, positive='live')])
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
