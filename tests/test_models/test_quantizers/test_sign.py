"""``sign`` (forward of every binarizer) and ``binarize`` (sign forward,
surrogate backward), checked against hand-written values."""
import math

import pytest
import torch
from torch import nn

from cmim_dense.models.quantizers import binarize, sign
from cmim_dense.models.quantizers.base import SurrogateSign

NAN, INF = float('nan'), float('inf')


class Affine(nn.Module):
    """A made-up 'surrogate derivative' d(x) = 3x + 1, to check that
    ``binarize`` returns exactly ``grad_output * d(x)``."""

    def forward(self, x):
        return 3 * x + 1


@pytest.mark.parametrize(
    'dtype', [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_sign_hand_values(dtype):
    x = torch.tensor([-2.0, -0.5, -1e-3, -0.0, 0.0, 1e-3, 0.5, 3.0, INF, -INF],
                     dtype=dtype)
    expected = torch.tensor([-1, -1, -1, 1, 1, 1, 1, 1, 1, -1], dtype=dtype)
    out = sign(x)
    assert out.dtype == dtype
    assert out.shape == x.shape
    assert torch.equal(out, expected)


def test_sign_zero_and_negative_zero_are_plus_one():
    out = sign(torch.tensor([0.0, -0.0], dtype=torch.float64))
    assert out.tolist() == [1.0, 1.0]
    # +1, not -0.0 or +0.0 with a sign bit: check the sign bit explicitly
    assert all(math.copysign(1.0, v) == 1.0 for v in out.tolist())


def test_sign_tiny_values():
    tiny = torch.finfo(torch.float64).tiny
    x = torch.tensor([tiny, -tiny, 5e-324, -5e-324], dtype=torch.float64)
    assert sign(x).tolist() == [1.0, -1.0, 1.0, -1.0]


def test_sign_nan_propagates():
    x = torch.tensor([NAN, -1.0, 0.0, NAN, 2.0], dtype=torch.float64)
    out = sign(x)
    assert torch.isnan(out).tolist() == [True, False, False, True, False]
    assert out[1].item() == -1.0
    assert out[2].item() == 1.0
    assert out[4].item() == 1.0


def test_sign_never_zero_and_binary_on_random_input():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 3, 5, 5, generator=g, dtype=torch.float64)
    x[0, 0, 0, :] = 0.0
    x[1, 1, 1, :] = -0.0
    out = sign(x)
    assert not (out == 0).any()
    assert set(out.unique().tolist()) <= {-1.0, 1.0}
    assert torch.equal(out, torch.where(x >= 0, 1.0, -1.0).to(x.dtype))


def test_sign_does_not_modify_input():
    x = torch.tensor([0.0, -0.0, -3.0, NAN])
    before = x.clone()
    sign(x)
    assert torch.equal(x[:3], before[:3]) and torch.isnan(x[3])
    # -0.0 keeps its sign bit in the input
    assert math.copysign(1.0, x[1].item()) == -1.0


def test_sign_integer_input():
    out = sign(torch.tensor([-3, 0, 2]))
    assert out.tolist() == [-1, 1, 1]


def test_binarize_forward_and_backward_use_the_surrogate():
    x = torch.tensor([-2.0, -0.5, 0.0, 0.25, 1.5],
                     dtype=torch.float64,
                     requires_grad=True)
    g = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0], dtype=torch.float64)
    y = binarize(x, Affine())
    assert y.tolist() == [-1.0, -1.0, 1.0, 1.0, 1.0]
    y.backward(g)
    # d(x) = 3x + 1 at x = [-2, -0.5, 0, 0.25, 1.5] = [-5, -0.5, 1, 1.75, 5.5]
    expected = torch.tensor([-5.0, 1.0, 0.5, 5.25, -5.5], dtype=torch.float64)
    torch.testing.assert_close(x.grad, expected, rtol=0, atol=1e-15)


def test_binarize_nan_forward():
    x = torch.tensor([NAN, 1.0], requires_grad=True)
    y = binarize(x, Affine())
    assert torch.isnan(y[0]) and y[1].item() == 1.0


@pytest.mark.parametrize('scale_grad', [False, True])
def test_binarize_scale_is_detached(scale_grad):
    x = torch.tensor([[-0.5, 0.0], [2.0, -3.0]],
                     dtype=torch.float64,
                     requires_grad=True)
    scale = torch.tensor([[0.5], [2.0]],
                         dtype=torch.float64,
                         requires_grad=True)
    y = binarize(x, Affine(), scale, scale_grad)
    expected = torch.tensor([[-0.5, 0.5], [2.0, -2.0]], dtype=torch.float64)
    assert torch.equal(y.detach(), expected)
    y.sum().backward()
    d = torch.tensor([[-0.5, 1.0], [7.0, -8.0]], dtype=torch.float64)
    if scale_grad:
        d = d * torch.tensor([[0.5], [2.0]], dtype=torch.float64)
    torch.testing.assert_close(x.grad, d, rtol=0, atol=1e-15)
    # the scale never receives a gradient
    assert scale.grad is None


def test_surrogate_sign_scale_grad_ignored_without_scale():
    x = torch.tensor([0.5, -0.25], dtype=torch.float64, requires_grad=True)
    SurrogateSign.apply(x, Affine(), None, True).sum().backward()
    torch.testing.assert_close(x.grad,
                               torch.tensor([2.5, 0.25], dtype=torch.float64))


def test_binarize_saves_only_input_graph():
    """Second-order use is not needed, but a second backward through a fresh
    graph must give the same answer (no state leaks between calls)."""
    x = torch.linspace(-2, 2, 9, dtype=torch.float64, requires_grad=True)
    surrogate = Affine()
    (g1, ) = torch.autograd.grad(binarize(x, surrogate).sum(), x)
    (g2, ) = torch.autograd.grad(binarize(x, surrogate).sum(), x)
    assert torch.equal(g1, g2)
    torch.testing.assert_close(g1, 3 * x.detach() + 1)
