"""Distillation terms of the FP-teacher form against hand-computed values."""
import math

import pytest
import torch
import torch.nn.functional as F

from cmim_dense.models.heads import FCNDepthHead
from cmim_dense.models.losses import DepthDistillLoss, PixelKLDistillLoss

# p_T = softmax([0, log 3]) = (1/4, 3/4), p_S = (1/2, 1/2):
# KL = 1/4 log(1/2) + 3/4 log(3/2)
KL_BY_HAND = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)


def logits(a: float, b: float, size=(2, 3)) -> torch.Tensor:
    x = torch.empty(1, 2, *size)
    x[:, 0], x[:, 1] = a, b
    return x


def test_pixel_kl_hand_values():
    loss = PixelKLDistillLoss()
    student = logits(0., 0.)
    assert float(loss(student, logits(0., math.log(3)))) == pytest.approx(
        KL_BY_HAND, rel=1e-6)
    # T = 2 on doubled teacher logits: the same distributions, times T^2
    loss_t2 = PixelKLDistillLoss(temperature=2.0, loss_weight=0.5)
    assert float(loss_t2(student, logits(0., 2 * math.log(3)))) == \
        pytest.approx(0.5 * 4 * KL_BY_HAND, rel=1e-6)
    # the teacher at half resolution is resized (a constant map stays)
    assert float(loss(logits(0., 0., (4, 6)), logits(0., math.log(3)))) == \
        pytest.approx(KL_BY_HAND, rel=1e-6)
    assert float(loss(student, student)) == pytest.approx(0, abs=1e-7)


def test_pixel_kl_gradient_is_reactnets():
    """ReActNet's distributional loss is -sum p_T log p_S; its gradient in
    the student's logits is p_S - p_T per pixel (mean over pixels)."""
    torch.manual_seed(0)
    student = torch.randn(2, 4, 3, 5, requires_grad=True)
    teacher = torch.randn(2, 4, 3, 5)
    PixelKLDistillLoss()(student, teacher).backward()
    expected = (F.softmax(student.detach(), 1) - F.softmax(teacher, 1)) / 30
    assert torch.allclose(student.grad, expected, atol=1e-6)
    assert teacher.grad is None


def test_depth_distill_hand_values():
    d_s, d_t = torch.full((1, 1, 2, 2), 2.), torch.ones(1, 1, 2, 2)
    for mode, value in (('log_l1', math.log(2)), ('l1', 1.0), ('l2', 1.0)):
        loss = DepthDistillLoss(mode=mode, from_logits=False, loss_weight=2.)
        assert float(loss(d_s, d_t)) == pytest.approx(2 * value, rel=1e-6)


def test_depth_distill_maps_logits_as_the_head():
    head = FCNDepthHead(
        in_channels=4, channels=4, num_convs=1, max_depth=8.0,
        min_depth=0.1).eval()
    feat = torch.randn(2, 4, 3, 3)
    loss = DepthDistillLoss(min_depth=0.1, max_depth=8.0)
    assert torch.allclose(
        loss.to_depth(head.conv_depth(feat)),
        head.regress_depth(feat),
        atol=1e-6)


def test_bad_inputs():
    with pytest.raises(ValueError, match='mode must be one of'):
        DepthDistillLoss(mode='huber')
    with pytest.raises(ValueError, match='temperature'):
        PixelKLDistillLoss(temperature=0)
    with pytest.raises(ValueError, match='same N and C'):
        PixelKLDistillLoss()(torch.zeros(1, 2, 3, 3), torch.zeros(1, 3, 3, 3))
