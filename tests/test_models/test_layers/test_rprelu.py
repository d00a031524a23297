"""Tests of ReActNet's :class:`cmim_dense.models.layers.RPReLU`."""
# cmim_dense first: it installs the mmcv-lite shims and registers RPReLU
import cmim_dense  # noqa: F401,I001
import pytest
import torch
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmseg.registry import MODELS as MMSEG_MODELS

from cmim_dense.models.layers import RPReLU


def make(gamma, beta, zeta):
    act = RPReLU(len(gamma))
    with torch.no_grad():
        act.shift_in.copy_(torch.tensor(gamma))
        act.slope.copy_(torch.tensor(beta))
        act.shift_out.copy_(torch.tensor(zeta))
    return act


def test_hand_values():
    # channel 0: gamma=0.5, beta=0.25, zeta=1; channel 1: gamma=-1,
    # beta=0.1, zeta=-2
    act = make([0.5, -1.0], [0.25, 0.1], [1.0, -2.0])
    x = torch.tensor([[[2.0, 0.5, -1.5], [0.0, -1.0, -3.0]]])  # (1, 2, 3)
    expected = torch.tensor([[
        [2.0 - 0.5 + 1.0, 1.0, 0.25 * (-1.5 - 0.5) + 1.0],  # 2.5, 1.0, 0.5
        [0.0 + 1.0 - 2.0, -2.0, 0.1 * (-3.0 + 1.0) - 2.0],  # -1, -2, -2.2
    ]])
    torch.testing.assert_close(act(x), expected)
    torch.testing.assert_close(
        expected, torch.tensor([[[2.5, 1.0, 0.5], [-1.0, -2.0, -2.2]]]))


def test_per_channel_formula_4d():
    torch.manual_seed(0)
    c = 3
    gamma, beta, zeta = torch.randn(c), torch.rand(c), torch.randn(c)
    act = make(gamma.tolist(), beta.tolist(), zeta.tolist())
    x = torch.randn(2, c, 4, 5)
    out = act(x)
    for i in range(c):
        xi = x[:, i]
        ref = torch.where(xi > gamma[i], xi - gamma[i] + zeta[i],
                          beta[i] * (xi - gamma[i]) + zeta[i])
        torch.testing.assert_close(out[:, i], ref)


def test_init_is_prelu():
    act = RPReLU(4)
    assert torch.equal(act.shift_in, torch.zeros(4))
    assert torch.equal(act.shift_out, torch.zeros(4))
    assert torch.equal(act.slope, torch.full((4, ), 0.25))
    x = torch.randn(2, 4, 3, 3)
    torch.testing.assert_close(act(x), torch.nn.PReLU(4, 0.25)(x))
    assert torch.equal(RPReLU(2, init_slope=0.1).slope, torch.full((2, ), 0.1))
    assert 'channels=4' in repr(act)


def test_gradients_reach_all_parameters():
    act = make([0.1, -0.2], [0.3, 0.2], [0.0, 0.5])
    x = torch.randn(4, 2, 3, 3, requires_grad=True)
    act(x).sum().backward()
    for p in (act.shift_in, act.slope, act.shift_out, x):
        assert p.grad is not None and p.grad.abs().sum() > 0


def test_2d_input_channels_on_dim1():
    act = make([1.0, -1.0], [0.5, 0.5], [0.0, 0.0])
    x = torch.tensor([[0.0, 0.0]])
    torch.testing.assert_close(act(x), torch.tensor([[-0.5, 1.0]]))


@pytest.mark.parametrize('registry', [MMENGINE_MODELS, MMSEG_MODELS])
def test_built_from_registry(registry):
    act = registry.build(dict(type='RPReLU', channels=3, init_slope=0.2))
    assert isinstance(act, RPReLU)
    assert torch.equal(act.slope, torch.full((3, ), 0.2))
