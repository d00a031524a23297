"""The memory-bank form of CMIM's loss against the released code's formula
(CRD's NCE: scores divided by Z, positives from the other side's bank)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cmim_dense.models.losses import CMIMNCELoss
from cmim_dense.models.losses.cmim_nce_loss import crd_nce_loss
from cmim_dense.models.losses.contrast_memory import ContrastMemory
from cmim_dense.models.losses import contrast_memory as contrast_memory_mod


def released_side(anchor, bank, rows, tau, positive=None, z=None):
    """One side of the released NCE, written out in numpy loops.

    ``rows[i]`` are the ``K + 1`` bank indices scored for anchor ``i``, the
    first one being the sample's own (its positive); ``positive`` replaces
    the positive's bank row by given vectors (the live option). ``out =
    exp(bank_row . anchor / tau)``; ``Z = mean(out) * M`` unless given; ``P =
    out / Z``; loss ``-(sum log(P0/(P0 + K/M)) + sum log((K/M)/(Pj +
    K/M))) / n``. Returns ``(loss, Z)``.
    """
    anchor, bank = np.asarray(anchor, float), np.asarray(bank, float)
    n, M = len(anchor), len(bank)
    K = len(rows[0]) - 1
    out = np.zeros((n, K + 1))
    for i in range(n):
        for j, row in enumerate(rows[i]):
            vec = bank[row]
            if j == 0 and positive is not None:
                vec = np.asarray(positive[i], float)
            out[i, j] = math.exp(float(vec @ anchor[i]) / tau)
    if z is None:
        z = out.mean() * M
    P = out / z
    noise = K / M
    total = 0.0
    for i in range(n):
        total += math.log(P[i, 0] / (P[i, 0] + noise))
        for j in range(1, K + 1):
            total += math.log(noise / (P[i, j] + noise))
    return -total / n, z


def unit(*shape, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(
        torch.randn(*shape, generator=gen, dtype=torch.float64), dim=-1)


def make_critic(size=10, dim=4, num_negatives=3, momentum=0.8, **kwargs):
    critic = CMIMNCELoss(
        temperature=0.5,
        embed_dim=dim,
        memory_bank=dict(
            size=size,
            num_negatives=num_negatives,
            momentum=momentum,
            **kwargs)).double()
    critic.train()
    return critic


IDX = torch.tensor([3, 7])


def fix_negatives(memory) -> list:
    """Make the memory draw fixed negatives for ``IDX``; the ``K + 1`` rows
    scored per sample, its own index first (the released layout)."""
    negatives = torch.tensor([[0, 1, 2], [4, 5, 9]])
    memory.sample_negatives = lambda indices: negatives
    return torch.cat([IDX[:, None], negatives], 1).tolist()


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_matches_released_formula_with_z_and_bank_positive(reduction):
    critic = make_critic(reduction=reduction)
    memory = critic.memory
    zb, zf = unit(2, 4, seed=1), unit(2, 4, seed=2)
    idx, rows = IDX, fix_negatives(memory)
    old_b, old_f = memory.bank_binary.clone(), memory.bank_latent.clone()

    loss, bound = critic(zb, zf, idx)
    # binary anchor scored against the latent bank (Z_B), and vice versa
    ref_b, z_b = released_side(zb, old_f, rows, 0.5)
    ref_f, z_f = released_side(zf, old_b, rows, 0.5)
    expected = ref_b + ref_f if reduction == 'sum' else (ref_b + ref_f) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-9)
    assert float(bound) == pytest.approx(math.log(3) - (ref_b + ref_f) / 2)
    assert memory.log_normalizer.tolist() == pytest.approx(
        [math.log(z_b), math.log(z_f)])
    assert int(memory.normalizer_set) == 1

    # second step: Z stays the first batch's; positives are the bank rows
    # as updated by the first step
    mid_b, mid_f = memory.bank_binary.clone(), memory.bank_latent.clone()
    zb2, zf2 = unit(2, 4, seed=3), unit(2, 4, seed=4)
    loss2, _ = critic(zb2, zf2, idx)
    ref_b2, _ = released_side(zb2, mid_f, rows, 0.5, z=z_b)
    ref_f2, _ = released_side(zf2, mid_b, rows, 0.5, z=z_f)
    expected2 = ref_b2 + ref_f2 if reduction == 'sum' else \
        (ref_b2 + ref_f2) / 2
    assert float(loss2) == pytest.approx(expected2, rel=1e-9)


def test_live_positive_option():
    critic = make_critic(positive='live')
    memory = critic.memory
    zb, zf = unit(2, 4, seed=1), unit(2, 4, seed=2)
    idx, rows = IDX, fix_negatives(memory)
    old_b, old_f = memory.bank_binary.clone(), memory.bank_latent.clone()
    loss, _ = critic(zb, zf, idx)
    ref_b, _ = released_side(zb, old_f, rows, 0.5, positive=zf)
    ref_f, _ = released_side(zf, old_b, rows, 0.5, positive=zb)
    assert float(loss) == pytest.approx((ref_b + ref_f) / 2, rel=1e-9)


def test_momentum_update_of_the_batch_entries_only():
    # m = 0.8, not 0.5: swapping m and 1 - m changes the result
    critic = make_critic(momentum=0.8)
    memory = critic.memory
    zb, zf = unit(2, 4, seed=1), unit(2, 4, seed=2)
    idx = torch.tensor([3, 7])
    old_b, old_f = memory.bank_binary.clone(), memory.bank_latent.clone()
    critic(zb, zf, idx)
    for new, old, z in ((memory.bank_binary, old_b, zb), (memory.bank_latent,
                                                          old_f, zf)):
        for k, i in enumerate(idx.tolist()):
            mixed = 0.8 * old[i].numpy() + 0.2 * z[k].numpy()
            assert new[i].numpy() == pytest.approx(mixed /
                                                   np.linalg.norm(mixed))
        untouched = [i for i in range(10) if i not in (3, 7)]
        assert torch.equal(new[untouched], old[untouched])
    # no update (and no Z) in eval mode
    fresh = make_critic().eval()
    before = fresh.memory.bank_binary.clone()
    fresh(zb, zf, idx)
    assert torch.equal(fresh.memory.bank_binary, before)


def test_loss_at_initialisation_is_of_order_log_n():
    """NYUD-v2 sizes: M = 795, N = 4096 (so K = 794 others), 128-d, tau 0.1.

    With Z, each side costs about log K + var(s)/2 for the positive plus
    about 1 for all negatives together; without Z each negative alone costs
    about softplus(s), hundreds of nats in all."""
    torch.manual_seed(0)
    critic = CMIMNCELoss(
        temperature=0.1,
        embed_dim=128,
        memory_bank=dict(size=795, num_negatives=4096))
    z = F.normalize(torch.randn(16, 128), dim=1)
    zf = F.normalize(torch.randn(16, 128), dim=1)
    loss, bound = critic(z, zf, torch.arange(16))
    log_k = math.log(794)
    # var(s) = 1 / (d tau^2) = 0.78 for random unit vectors
    expected = log_k + 0.78 / 2 + 1
    assert float(loss) == pytest.approx(expected, abs=0.5)
    assert -3 < float(bound) < 0
    # the released convention (sum of the sides): the same banks, twice it
    torch.manual_seed(0)
    summed = CMIMNCELoss(
        temperature=0.1,
        embed_dim=128,
        memory_bank=dict(size=795, num_negatives=4096, reduction='sum'))
    loss_sum, bound_sum = summed(z, zf, torch.arange(16))
    assert float(loss_sum) == pytest.approx(2 * float(loss), rel=1e-6)
    assert float(bound_sum) == pytest.approx(float(bound), rel=1e-6)


def test_crd_nce_loss_hand_value():
    # P+ = K/M: log D1 = log 1/2; P- = 0 (log P = -inf): log D0 = 0
    pos = torch.full((2, ), math.log(2 / 8))
    neg = torch.full((2, 2), -math.inf)
    assert float(crd_nce_loss(pos, neg, 8)) == pytest.approx(math.log(2))
    # P- = K/M: each negative log 2 too; per sample 3 log 2
    neg = torch.full((2, 2), math.log(2 / 8))
    assert float(crd_nce_loss(pos, neg, 8)) == pytest.approx(3 * math.log(2))


def test_negatives_without_replacement_never_the_positive():
    torch.manual_seed(0)
    memory = ContrastMemory(size=11, dim=2, num_negatives=5)
    idx = torch.tensor([0, 4, 10] * 400)
    neg = memory.sample_negatives(idx)
    assert neg.shape == (1200, 5)
    assert (neg != idx[:, None]).all()
    assert neg.min() >= 0 and neg.max() <= 10
    for row in neg.tolist():  # without replacement
        assert len(set(row)) == 5
    # uniform over the 10 others: each expected 400 * 5 / 10 = 200 times
    for k in range(3):
        counts = torch.bincount(neg[k::3].flatten(), minlength=11)
        others = [i for i in range(11) if i != idx[k]]
        assert counts[idx[k]] == 0
        assert (counts[others] - 200).abs().max() < 60


def test_all_other_entries_when_negatives_exceed_bank(monkeypatch):
    messages = []
    monkeypatch.setattr(contrast_memory_mod, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    memory = ContrastMemory(size=5, dim=2, num_negatives=4096)
    assert memory.effective_negatives == 4
    idx = torch.tensor([0, 2, 4])
    neg = memory.sample_negatives(idx)
    assert neg.tolist() == [[1, 2, 3, 4], [0, 1, 3, 4], [0, 1, 2, 3]]
    memory.sample_negatives(idx)
    assert len(messages) == 1 and 'all 4 other entries' in messages[0]
    # exactly M - 1 requested: all others, nothing to say
    messages.clear()
    ContrastMemory(size=5, dim=2, num_negatives=4).sample_negatives(idx)
    assert messages == []


def test_banks_and_z_resume(tmp_path):
    critic = make_critic()
    critic(unit(2, 4, seed=1), unit(2, 4, seed=2), torch.tensor([1, 2]))
    torch.save(critic.state_dict(), tmp_path / 'c.pth')
    fresh = make_critic()
    state = torch.load(tmp_path / 'c.pth', weights_only=True)
    assert {'memory.log_normalizer', 'memory.normalizer_set'} <= set(state)
    fresh.load_state_dict(state)
    for name in ('bank_binary', 'bank_latent', 'log_normalizer',
                 'normalizer_set'):
        assert torch.equal(
            getattr(fresh.memory, name), getattr(critic.memory, name))
    # the resumed Z is used, not recomputed from the next batch
    fresh.memory.sample_negatives = critic.memory.sample_negatives = \
        lambda indices: torch.tensor([[0, 3, 4], [5, 6, 7]])
    zb, zf = unit(2, 4, seed=5), unit(2, 4, seed=6)
    assert torch.equal(
        fresh(zb, zf, torch.tensor([1, 2]))[0],
        critic(zb, zf, torch.tensor([1, 2]))[0])


def test_size_from_data_and_from_checkpoint():
    memory = ContrastMemory(size=None, dim=4)
    assert memory.size == 0
    with pytest.raises(RuntimeError, match='CMIMMemoryHook'):
        memory.check_indices(torch.tensor([0]))
    memory.resize_(6)
    assert memory.bank_latent.shape == (6, 4)
    assert torch.allclose(memory.bank_latent.norm(dim=1), torch.ones(6))
    # an unsized bank takes a checkpoint's size; a sized one refuses it
    loaded = ContrastMemory(size=None, dim=4)
    loaded.load_state_dict(memory.state_dict())
    assert torch.equal(loaded.bank_binary, memory.bank_binary)
    with pytest.raises(RuntimeError, match='size mismatch'):
        ContrastMemory(size=5, dim=4).load_state_dict(memory.state_dict())


def test_bad_memory_bank_configs():
    with pytest.raises(ValueError, match='positive'):
        CMIMNCELoss(memory_bank=dict(size=4, positive='other'))
    with pytest.raises(ValueError, match='reduction'):
        CMIMNCELoss(memory_bank=dict(size=4, reduction='max'))
    with pytest.raises(ValueError, match='needs size'):
        CMIMNCELoss(memory_bank=dict(num_negatives=4))
    with pytest.raises(ValueError, match='memory_bank.size'):
        CMIMNCELoss(memory_bank=dict(size=1.5))
    with pytest.raises(ValueError, match='momentum'):
        ContrastMemory(4, 2, momentum=1.0)
    with pytest.raises(ValueError, match='num_negatives'):
        ContrastMemory(4, 2, num_negatives=0)
