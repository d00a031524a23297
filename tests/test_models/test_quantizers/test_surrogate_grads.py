"""Backward of ``binarize(x, surrogate)`` against the derivatives written out
from the papers (numpy, float64), at a grid with the edges."""
import math

import numpy as np
import pytest
import torch

from cmim_dense.models import BinaryConv2d
from cmim_dense.models.quantizers import BaseSurrogateGrad, binarize
from cmim_dense.models.quantizers.surrogate_grads import (ApproxSignGrad,
                                                          ClipSTE, EDEGrad,
                                                          FourierGrad,
                                                          IdentitySTE,
                                                          RBNNGrad)
from cmim_dense.models.quantizers.activation_quantizers import SignQuantizer
from cmim_dense.registry import QUANTIZERS, SURROGATE_GRADS

GRID = np.array([
    -2.0, -1.5, -1.0 - 1e-9, -1.0, -1.0 + 1e-9, -0.75, -0.5, -0.25, -1e-3,
    -1e-8, 0.0, 1e-8, 1e-3, 0.25, 0.5, 0.75, 1.0 - 1e-9, 1.0, 1.0 + 1e-9, 1.5,
    2.0
])
PROGRESS = [0.0, 0.5, 1.0]


def backward_of(surrogate, x, dtype=torch.float64):
    """dL/dx of L = sum(g * binarize(x)) with a non-trivial upstream g; the
    result divided by g is the surrogate derivative."""
    xt = torch.tensor(x, dtype=dtype, requires_grad=True)
    g = torch.linspace(0.5, 2.0, xt.numel(), dtype=dtype).view_as(xt)
    y = binarize(xt, surrogate)
    assert torch.equal(y.detach(), torch.where(xt >= 0, 1.0, -1.0).to(dtype))
    y.backward(g)
    return (xt.grad / g).numpy()


def t_k_by_hand(p, t_min=1e-2, t_max=1e1):
    t = t_min * 10**(p * math.log10(t_max / t_min))
    return t, max(1.0 / t, 1.0)


def scheduled(cls, p, **kwargs):
    mod = cls(**kwargs).double()  # float64 buffers, then exact schedule
    mod.set_progress(p)
    return mod


# --------------------------------------------------------------- ClipSTE


def test_clip_ste_hand_values():
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    np.testing.assert_array_equal(
        backward_of(ClipSTE(), x), [0, 1, 1, 1, 1, 1, 0])


def test_clip_ste_grid():
    expected = (np.abs(GRID) <= 1).astype(float)
    np.testing.assert_array_equal(backward_of(ClipSTE(), GRID), expected)


def test_clip_ste_custom_clip():
    x = np.array([-0.6, -0.5, 0.0, 0.5, 0.6])
    np.testing.assert_array_equal(
        backward_of(ClipSTE(clip=0.5), x), [0, 1, 1, 1, 0])


@pytest.mark.parametrize('clip', [0.0, -1.0])
def test_clip_ste_rejects_non_positive_clip(clip):
    with pytest.raises(ValueError):
        ClipSTE(clip=clip)


def test_clip_ste_float32():
    x = np.array([-1.5, -1.0, 0.0, 1.0, 1.5])
    np.testing.assert_array_equal(
        backward_of(ClipSTE(), x, torch.float32), [0, 1, 1, 1, 0])


# ----------------------------------------------------------- IdentitySTE


def test_identity_ste():
    np.testing.assert_array_equal(
        backward_of(IdentitySTE(), GRID), np.ones_like(GRID))
    big = np.array([-1e6, 1e6])
    np.testing.assert_array_equal(backward_of(IdentitySTE(), big), [1, 1])


# -------------------------------------------------------- ApproxSignGrad


def test_approx_sign_hand_values():
    x = np.array([-2.0, -1.0, -0.75, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0])
    np.testing.assert_allclose(
        backward_of(ApproxSignGrad(), x), [0, 0, 0.5, 1, 2, 1.5, 1, 0, 0],
        rtol=0,
        atol=1e-15)


def test_approx_sign_grid_piecewise():
    # Bi-Real Net (Liu et al. 2018), ApproxSign:
    # 2 + 2x on [-1, 0), 2 - 2x on [0, 1), 0 elsewhere
    expected = np.select([(GRID >= -1) & (GRID < 0), (GRID >= 0) & (GRID < 1)],
                         [2 + 2 * GRID, 2 - 2 * GRID], 0.0)
    np.testing.assert_allclose(
        backward_of(ApproxSignGrad(), GRID), expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------- EDEGrad


@pytest.mark.parametrize('p', PROGRESS)
def test_ede_grid(p):
    t, k = t_k_by_hand(p)
    expected = k * t * (1 - np.tanh(t * GRID)**2)
    np.testing.assert_allclose(
        backward_of(scheduled(EDEGrad, p), GRID),
        expected,
        rtol=1e-12,
        atol=1e-13)


def test_ede_hand_values():
    x = np.array([-1.0, 0.0, 0.5, 1.0])
    # p = 0: t = 0.01, k = 100 -> k t = 1, d(0) = 1
    np.testing.assert_allclose(
        backward_of(scheduled(EDEGrad, 0.0), x), [
            1 - np.tanh(0.01)**2, 1.0, 1 - np.tanh(0.005)**2,
            1 - np.tanh(0.01)**2
        ],
        rtol=1e-12)
    # p = 1: t = 10, k = 1 -> d(0) = 10, d(0.5) = 10 sech(5)^2
    np.testing.assert_allclose(
        backward_of(scheduled(EDEGrad, 1.0), x),
        [10 / np.cosh(10)**2, 10.0, 10 / np.cosh(5)**2, 10 / np.cosh(10)**2],
        rtol=1e-10,
        atol=1e-13)  # 1 - tanh^2 cancels near |t x| = 10


def test_ede_schedule_buffers():
    mod = EDEGrad().double()
    for p, (t, k) in [(0.0, (0.01, 100.0)), (0.5, (10**-0.5, 10**0.5)),
                      (2 / 3, (1.0, 1.0)), (1.0, (10.0, 1.0))]:
        mod.set_progress(p)
        assert mod.t.item() == pytest.approx(t, rel=1e-12)
        assert mod.k.item() == pytest.approx(k, rel=1e-12)


def test_ede_default_state_is_progress_zero():
    mod = EDEGrad(t_min=1e-3, t_max=1e1)
    assert mod.t.item() == pytest.approx(1e-3, rel=1e-6)
    assert mod.k.item() == pytest.approx(1e3, rel=1e-6)


@pytest.mark.parametrize('p', [0.0, 0.25, 1.0])
def test_ede_custom_t_min(p):
    t, k = t_k_by_hand(p, 1e-3, 1e1)
    expected = k * t * (1 - np.tanh(t * GRID)**2)
    np.testing.assert_allclose(
        backward_of(scheduled(EDEGrad, p, t_min=1e-3), GRID),
        expected,
        rtol=1e-12,
        atol=1e-13)


def test_ede_float32_input_with_float32_buffers():
    mod = EDEGrad()
    mod.set_progress(0.5)
    t, k = t_k_by_hand(0.5)
    x = np.array([-1.0, -0.3, 0.0, 0.7, 2.0])
    got = backward_of(mod, x, torch.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, k * t * (1 - np.tanh(t * x)**2), rtol=1e-5)


# -------------------------------------------------------------- RBNNGrad


@pytest.mark.parametrize('p', PROGRESS)
def test_rbnn_grid(p):
    t, k = t_k_by_hand(p)
    expected = k * np.maximum(0.0, math.sqrt(2) * t - t * t * np.abs(GRID))
    np.testing.assert_allclose(
        backward_of(scheduled(RBNNGrad, p), GRID),
        expected,
        rtol=1e-12,
        atol=1e-15)


def test_rbnn_hand_values():
    x = np.array([-2.0, 0.0, 0.1, 0.5, 1.0])
    # p = 0: t = 0.01, k = 100: 100 * (0.01 sqrt2 - 1e-4 |x|)
    np.testing.assert_allclose(
        backward_of(scheduled(RBNNGrad, 0.0), x), [
            math.sqrt(2) - 0.02,
            math.sqrt(2),
            math.sqrt(2) - 0.001,
            math.sqrt(2) - 0.005,
            math.sqrt(2) - 0.01
        ],
        rtol=1e-12)
    # p = 1: t = 10, k = 1: max(0, 10 sqrt2 - 100 |x|); zero from |x| = 0.1414
    np.testing.assert_allclose(
        backward_of(scheduled(RBNNGrad, 1.0), x),
        [0.0, 10 * math.sqrt(2), 10 * math.sqrt(2) - 10, 0.0, 0.0],
        rtol=1e-12,
        atol=1e-12)


# ----------------------------------------------------------- FourierGrad


def fourier_by_hand(x, n, omega=0.1):
    """(4 omega / pi) sum_{i=0..n} cos((2i+1) omega x), 0 for |x| > 1."""
    total = np.zeros_like(x)
    for i in range(n + 1):
        total += np.cos((2 * i + 1) * omega * x)
    return np.where(np.abs(x) > 1, 0.0, 4 * omega / np.pi * total)


@pytest.mark.parametrize('p,n', [(0.0, 9), (0.5, 13), (1 / 9, 10), (0.99, 17),
                                 (1.0, 18)])
def test_fourier_grid(p, n):
    mod = scheduled(FourierGrad, p)
    assert mod.n.item() == n == math.floor(9 + 9 * p + 1e-12)
    np.testing.assert_allclose(
        backward_of(mod, GRID),
        fourier_by_hand(GRID, n),
        rtol=1e-10,
        atol=1e-12)


def test_fourier_hand_value_at_zero_and_edges():
    mod = scheduled(FourierGrad, 0.0)  # n = 9: ten terms
    x = np.array([-1.0 - 1e-9, -1.0, 0.0, 1.0, 1.0 + 1e-9])
    got = backward_of(mod, x)
    assert got[2] == pytest.approx(4 * 0.1 / math.pi * 10, rel=1e-12)
    assert got[0] == 0.0 and got[4] == 0.0
    assert got[1] > 0 and got[3] > 0


@pytest.mark.parametrize('omega,n_start,n_end,p,n', [(0.3, 2, 6, 0.5, 4),
                                                     (0.05, 0, 3, 1.0, 3),
                                                     (1.0, 4, 4, 0.7, 4)])
def test_fourier_custom_parameters(omega, n_start, n_end, p, n):
    mod = scheduled(FourierGrad, p, omega=omega, n_start=n_start, n_end=n_end)
    assert mod.n.item() == n
    np.testing.assert_allclose(
        backward_of(mod, GRID),
        fourier_by_hand(GRID, n, omega),
        rtol=1e-9,
        atol=1e-12)


def test_fourier_float32():
    mod = FourierGrad()
    mod.set_progress(0.5)
    x = np.array([-1.0, -0.5, -1e-7, 0.0, 1e-4, 0.3, 1.0, 1.5])
    np.testing.assert_allclose(
        backward_of(mod, x, torch.float32), fourier_by_hand(x, 13), rtol=1e-5)


@pytest.mark.parametrize('omega', [0.0, -0.1])
def test_fourier_rejects_bad_omega(omega):
    with pytest.raises(ValueError):
        FourierGrad(omega=omega)


# ------------------------------------------------------ progress checks


@pytest.mark.parametrize('cls', [EDEGrad, RBNNGrad, FourierGrad])
@pytest.mark.parametrize('p', [-0.01, 1.01, float('nan')])
def test_set_progress_out_of_range(cls, p):
    mod = cls()
    before = {k: v.clone() for k, v in mod.state_dict().items()}
    with pytest.raises(ValueError):
        mod.set_progress(p)
    for k, v in mod.state_dict().items():
        assert torch.equal(v, before[k])


@pytest.mark.parametrize('cls', [EDEGrad, RBNNGrad])
@pytest.mark.parametrize('t_min,t_max', [(0.0, 1.0), (2.0, 1.0), (-1e-2, 1e1)])
def test_tk_rejects_bad_range(cls, t_min, t_max):
    with pytest.raises(ValueError):
        cls(t_min=t_min, t_max=t_max)


def test_set_progress_accepts_tensor_and_int():
    mod = EDEGrad().double()
    mod.set_progress(torch.tensor(1.0))
    assert mod.t.item() == pytest.approx(10.0)
    mod.set_progress(0)
    assert mod.t.item() == pytest.approx(0.01)


def test_surrogates_have_their_own_registry():
    """Every surrogate is in ``SURROGATE_GRADS`` and none in ``QUANTIZERS``
    (whose members are what fills a binary layer's roles)."""
    SURROGATE_GRADS.import_from_location()
    assert SURROGATE_GRADS.module_dict
    for cls in SURROGATE_GRADS.module_dict.values():
        assert issubclass(cls, BaseSurrogateGrad)
    for name, cls in QUANTIZERS.module_dict.items():
        assert not issubclass(cls, BaseSurrogateGrad), name
    assert set(SURROGATE_GRADS.module_dict).isdisjoint(QUANTIZERS.module_dict)


def test_unknown_surrogate_is_named_with_the_valid_ones():
    with pytest.raises(KeyError) as err:
        SignQuantizer(grad=dict(type='NoSuchGrad'))
    message = str(err.value)
    assert 'surrogate gradient' in message and 'NoSuchGrad' in message
    assert 'EDEGrad' in message and 'SteSign' not in message


@pytest.mark.parametrize('cfg', [dict(type='EDEGrad'), dict(type=ClipSTE)])
def test_surrogate_as_a_role_is_refused_with_the_reason(cfg):
    with pytest.raises(TypeError, match='surrogate gradient'):
        BinaryConv2d(4, 6, 3, binarizer='bnn', input_quantizer=cfg)
