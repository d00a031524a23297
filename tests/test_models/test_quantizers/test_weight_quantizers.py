"""Weight quantizers: forward values and weight gradients, against hand values
and references built here with autograd and the detach trick
``y = s * sign(z).detach() + (F(z) - F(z).detach())``, written from the
papers (the released-code forms are checked in test_released_code.py)."""
import math

import pytest
import torch

from cmim_dense.models.quantizers.surrogate_grads import (ClipSTE, EDEGrad,
                                                          FourierGrad,
                                                          IdentitySTE,
                                                          RBNNGrad)
from cmim_dense.models.quantizers.weight_quantizers import (LibraPBWeight,
                                                            RBNNWeight,
                                                            ReCUWeight,
                                                            ScaledSignWeight,
                                                            SteSignWeight)
from cmim_dense.models.quantizers.weight_quantizers import balanced_factors

DT = torch.float64


def t_k(p, t_min=1e-2, t_max=1e1):
    t = t_min * 10**(p * math.log10(t_max / t_min))
    return t, max(1 / t, 1.0)


def sign_ref(z):
    return torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def standardize_ref(w):
    """(W - mean_o W) / std_o per output channel, unbiased std (torch's and
    IR-Net's ``.std()``), written out."""
    flat = w.reshape(w.shape[0], -1)
    n = flat.shape[1]
    centered = flat - flat.sum(1, keepdim=True) / n
    std = torch.sqrt((centered**2).sum(1, keepdim=True) / (n - 1))
    return (centered / std).reshape(w.shape)


def per_channel(values, ndim):
    return values.reshape((-1, ) + (1, ) * (ndim - 1))


def weight_grad(q, w, g):
    w = w.clone().requires_grad_()
    y = q(w)
    y.backward(g)
    return y.detach(), w.grad


def random_weight(shape, seed):
    gen = torch.Generator().manual_seed(seed)
    w = torch.randn(shape, generator=gen, dtype=DT)
    scales = torch.linspace(0.05, 2.0, shape[0], dtype=DT)
    offsets = torch.linspace(-0.3, 0.3, shape[0], dtype=DT)
    return w * per_channel(scales, w.dim()) + per_channel(offsets, w.dim())


# ---------------------------------------------------------- SteSignWeight


def test_ste_sign_weight_forward_and_clip_ste():
    w = torch.tensor(
        [[[[-1.5, -1.0], [0.0, 0.3]]], [[[1.0, 1.2], [-0.0, -0.7]]]], dtype=DT)
    g = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]], [[[5.0, 6.0], [7.0, 8.0]]]],
                     dtype=DT)
    y, grad = weight_grad(SteSignWeight(), w, g)
    assert y.tolist() == [[[[-1, -1], [1, 1]]], [[[1, 1], [1, -1]]]]
    assert grad.tolist() == [[[[0, 2], [3, 4]]], [[[5, 0], [7, 8]]]]


def test_ste_sign_weight_latent_clip():
    assert SteSignWeight().latent_clip is None
    assert SteSignWeight(latent_clip=1.0).latent_clip == 1.0
    assert isinstance(SteSignWeight().grad, ClipSTE)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError):
            SteSignWeight(latent_clip=bad)


def test_ste_sign_weight_no_scale():
    w = random_weight((3, 4), 0)
    y, _ = weight_grad(SteSignWeight(), w, torch.ones_like(w))
    assert torch.equal(y, sign_ref(w))


# ------------------------------------------------------- ScaledSignWeight


def hand_weight():
    # conv weight (2, 1, 2, 2); alpha = [1.0, 0.3]
    return torch.tensor(
        [[[[0.5, -1.5], [0.0, 2.0]]], [[[-0.2, 0.2], [0.4, -0.4]]]], dtype=DT)


def test_scaled_sign_weight_hand_forward():
    y, _ = weight_grad(ScaledSignWeight(), hand_weight(),
                       torch.ones(2, 1, 2, 2, dtype=DT))
    expected = torch.tensor(
        [[[[1.0, -1.0], [1.0, 1.0]]], [[[-0.3, 0.3], [0.3, -0.3]]]], dtype=DT)
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize('scale_grad', [False, True])
def test_scaled_sign_weight_hand_grad(scale_grad):
    g = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]], [[[5.0, 6.0], [7.0, 8.0]]]],
                     dtype=DT)
    _, grad = weight_grad(
        ScaledSignWeight(scale_grad=scale_grad), hand_weight(), g)
    # clip STE: |W| <= 1 passes; alpha not differentiated (detached)
    expected = torch.tensor(
        [[[[1.0, 0.0], [3.0, 0.0]]], [[[5.0, 6.0], [7.0, 8.0]]]], dtype=DT)
    if scale_grad:  # times alpha_w = [1.0, 0.3]
        expected = expected * torch.tensor([1.0, 0.3], dtype=DT).view(
            2, 1, 1, 1)
    torch.testing.assert_close(grad, expected, rtol=0, atol=1e-14)


@pytest.mark.parametrize('shape', [(4, 3, 3, 3), (5, 7), (3, 2, 5)])
@pytest.mark.parametrize('scale_grad', [False, True])
def test_scaled_sign_weight_random(shape, scale_grad):
    w = random_weight(shape, 1)
    g = random_weight(shape, 2)
    y, grad = weight_grad(ScaledSignWeight(scale_grad=scale_grad), w, g)
    alpha = per_channel(w.abs().reshape(shape[0], -1).mean(1), len(shape))
    torch.testing.assert_close(y, alpha * sign_ref(w), rtol=1e-14, atol=0)
    expected = g * (w.abs() <= 1).to(DT)
    if scale_grad:
        expected = expected * alpha
    torch.testing.assert_close(grad, expected, rtol=1e-14, atol=0)


def test_scaled_sign_weight_fourier_grad():
    q = ScaledSignWeight(grad=dict(type='FourierGrad')).double()
    q.grad.set_progress(0.0)
    w = random_weight((3, 2, 3, 3), 3)
    g = random_weight((3, 2, 3, 3), 4)
    _, grad = weight_grad(q, w, g)
    series = sum(torch.cos((2 * i + 1) * 0.1 * w) for i in range(10))
    d = torch.where(w.abs() > 1, 0.0, 0.4 / math.pi * series)
    torch.testing.assert_close(grad, g * d, rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------- LibraPBWeight


def libra_hand_weight():
    # ch0: one spike among 9 -> W_std = [8/3, -1/3 x 8], mean|W_std| = 16/27
    #      -> log2 = -0.755 -> round -1 -> scale 0.5
    # ch1: 2 * (two dips) + 5 -> W_std = [-2 sqrt7/3 x 2, 4/(3 sqrt7) x 7],
    #      mean|W_std| = 8 sqrt7 / 27 = 0.784 -> log2 = -0.35 -> scale 1
    ch0 = torch.tensor([3.0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=DT)
    ch1 = torch.tensor([3.0, 3, 5, 5, 5, 5, 5, 5, 5], dtype=DT)
    return torch.stack([ch0, ch1]).view(2, 1, 3, 3)


def test_libra_standardisation_by_hand():
    w_std = standardize_ref(libra_hand_weight()).view(2, 9)
    torch.testing.assert_close(w_std[0, 0], torch.tensor(8 / 3, dtype=DT))
    torch.testing.assert_close(w_std[0, 1:], torch.full((8, ),
                                                        -1 / 3,
                                                        dtype=DT))
    torch.testing.assert_close(
        w_std[1, :2], torch.full((2, ), -2 * math.sqrt(7) / 3, dtype=DT))


def test_libra_hand_forward():
    y, _ = weight_grad(LibraPBWeight(), libra_hand_weight(),
                       torch.ones(2, 1, 3, 3, dtype=DT))
    expected = torch.tensor([[0.5] + [-0.5] * 8, [-1.0] * 2 + [1.0] * 7],
                            dtype=DT).view(2, 1, 3, 3)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)


def test_libra_quarter_scale_linear():
    # spike among 64: mean|W_std| = 2 * 63 / (64 * 8) = 0.246 -> 2^-2
    w = torch.zeros(1, 64, dtype=DT)
    w[0, 5] = -2.0
    y, _ = weight_grad(LibraPBWeight(), w, torch.ones_like(w))
    expected = torch.full((1, 64), 0.25, dtype=DT)
    expected[0, 5] = -0.25
    torch.testing.assert_close(y, expected, rtol=0, atol=0)


def libra_reference(w, p, scale_grad):
    t, k = t_k(p)
    w_std = standardize_ref(w)
    mean_abs = w_std.detach().abs().reshape(w.shape[0], -1).mean(1)
    s = per_channel(2.0**torch.round(torch.log2(mean_abs)), w.dim())
    f = k * torch.tanh(t * w_std)
    surrogate = f - f.detach()
    if scale_grad:
        surrogate = surrogate * s
    return s * sign_ref(w_std).detach() + surrogate


@pytest.mark.parametrize('p', [0.0, 0.5, 1.0])
@pytest.mark.parametrize('scale_grad', [False, True])
@pytest.mark.parametrize('shape', [(4, 3, 3, 3), (6, 10)])
def test_libra_grad_matches_reference(p, scale_grad, shape):
    w = random_weight(shape, 5)
    w.view(shape[0], -1)[0] = 0.0
    w.view(shape[0], -1)[0, 3] = 1.7  # a spike channel: scale 0.5 or less
    g = random_weight(shape, 6)
    q = LibraPBWeight(scale_grad=scale_grad).double()
    q.grad.set_progress(p)
    y, grad = weight_grad(q, w, g)

    wr = w.clone().requires_grad_()
    yr = libra_reference(wr, p, scale_grad)
    yr.backward(g)
    torch.testing.assert_close(y, yr.detach(), rtol=1e-12, atol=0)
    # spike channel: mean|W_std| = 2 (n-1) / n^1.5 -> scale 0.5 for n = 27
    # and n = 10; the Gaussian channels get scale 1
    scales = y.abs().reshape(shape[0], -1)
    assert (scales[0] == 0.5).all()
    assert set(scales.unique().tolist()) <= {0.5, 1.0}
    torch.testing.assert_close(grad, wr.grad, rtol=1e-8, atol=1e-10)


def test_libra_grad_goes_through_standardisation():
    """The standardisation is invariant to W -> a W + b per channel, so each
    channel's gradient sums to 0 and is orthogonal to the centred weight."""
    shape = (3, 2, 3, 3)
    w = random_weight(shape, 7)
    g = random_weight(shape, 8)
    q = LibraPBWeight().double()
    q.grad.set_progress(0.5)
    _, grad = weight_grad(q, w, g)
    flat_g = grad.reshape(3, -1)
    flat_w = w.reshape(3, -1)
    centred = flat_w - flat_w.mean(1, keepdim=True)
    scale = flat_g.abs().sum(1)
    assert (scale > 0).all()
    torch.testing.assert_close(
        flat_g.sum(1) / scale, torch.zeros(3, dtype=DT), atol=1e-12, rtol=0)
    torch.testing.assert_close(
        (flat_g * centred).sum(1) / scale,
        torch.zeros(3, dtype=DT),
        atol=1e-9,
        rtol=0)


def test_libra_default_grad_is_ede():
    assert isinstance(LibraPBWeight().grad, EDEGrad)
    assert LibraPBWeight().scale_grad is False


# ------------------------------------------------------------- RBNNWeight


def random_orthogonal(n, seed):
    gen = torch.Generator().manual_seed(seed)
    q, r = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=DT))
    return q * torch.sign(torch.diagonal(r))


def f_rbnn(p):
    t, k = t_k(p)
    r = math.sqrt(2) / t

    def f(z):
        c = torch.clamp(z, -r, r)
        return k * (math.sqrt(2) * t * c - t * t * c * c.abs() / 2)

    return f


def test_balanced_factors():
    assert balanced_factors(18) == (3, 6)
    assert balanced_factors(36) == (6, 6)
    assert balanced_factors(9) == (3, 3)
    assert balanced_factors(7) == (1, 7)
    assert balanced_factors(1) == (1, 1)
    assert balanced_factors(288) == (16, 18)


def test_rbnn_construction():
    """RBNN's released init: random orthogonal R1, R2, theta = pi / 2."""
    q = RBNNWeight((4, 2, 3, 3))
    assert q.factors == (3, 6)
    for r, n in ((q.rotation_left, 3), (q.rotation_right, 6)):
        torch.testing.assert_close(r @ r.t(), torch.eye(n), atol=1e-6, rtol=0)
        assert not torch.allclose(r, torch.eye(n))  # not the identity
    other = RBNNWeight((4, 2, 3, 3))
    assert not torch.equal(q.rotation_left, other.rotation_left)  # random
    assert q.theta.shape == (4, )
    assert torch.equal(q.theta.detach(), torch.full((4, ), math.pi / 2))
    assert q.detach_rotation is True
    assert isinstance(q.grad, RBNNGrad)
    identity = RBNNWeight((4, 2, 3, 3), init_rotation='identity')
    assert torch.equal(identity.rotation_left, torch.eye(3))
    with pytest.raises(ValueError, match='init_rotation'):
        RBNNWeight((4, 2, 3, 3), init_rotation='eye')
    assert RBNNWeight((5, 7)).factors == (1, 7)
    assert RBNNWeight((4, 2, 3, 3), factors=(2, 9)).factors == (2, 9)


def test_rbnn_wrong_factors_and_shape():
    with pytest.raises(ValueError, match='fan-in'):
        RBNNWeight((4, 2, 3, 3), factors=(4, 4))
    q = RBNNWeight((4, 2, 3, 3))
    with pytest.raises(ValueError, match='shape'):
        q(torch.zeros(4, 2, 3, 2))


def rbnn_w3(q, w):
    a, b = q.factors
    x = standardize_ref(w).reshape(w.shape[0], a, b)
    r1, r2 = q.rotation_left, q.rotation_right
    rotated = r1.t() @ x @ r2
    gate = torch.sin(q.theta).abs().view(-1, 1, 1)
    return (x + gate * (rotated - x)).reshape(w.shape)


@pytest.mark.parametrize('p', [0.0, 0.5, 1.0])
def test_rbnn_forward_and_grad_match_reference(p):
    """The paper's form: the gradient also flows through the rotation."""
    shape = (4, 2, 3, 3)
    q = RBNNWeight(shape, detach_rotation=False).double()
    with torch.no_grad():
        q.rotation_left.copy_(random_orthogonal(3, 10))
        q.rotation_right.copy_(random_orthogonal(6, 11))
        q.theta.copy_(torch.tensor([0.3, 1.2, -0.7, 2.5], dtype=DT))
    q.grad.set_progress(p)
    w = random_weight(shape, 12)
    g = random_weight(shape, 13)

    wq = w.clone().requires_grad_()
    y = q(wq)
    y.backward(g)

    # reference on an independent copy of theta
    theta = q.theta.detach().clone().requires_grad_()
    wr = w.clone().requires_grad_()
    a, b = q.factors
    x = standardize_ref(wr).reshape(shape[0], a, b)
    rotated = q.rotation_left.t() @ x @ q.rotation_right
    w3 = (x + torch.sin(theta).abs().view(-1, 1, 1) *
          (rotated - x)).reshape(shape)
    f = f_rbnn(p)(w3)
    yr = sign_ref(w3).detach() + (f - f.detach())
    yr.backward(g)

    safe = w3.detach().abs() > 1e-9
    assert torch.equal(y[safe], yr.detach()[safe])
    assert set(y.unique().tolist()) <= {-1.0, 1.0}
    torch.testing.assert_close(wq.grad, wr.grad, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(q.theta.grad, theta.grad, rtol=1e-8, atol=1e-10)


def test_rbnn_gate_limits():
    """theta = 0: w3 = standardised W; theta = pi/2: w3 = R1^T X R2."""
    shape = (2, 1, 2, 2)
    q = RBNNWeight(shape, init_rotation='identity').double()
    r1 = torch.tensor([[0.0, 1.0], [1.0, 0.0]], dtype=DT)  # a swap
    with torch.no_grad():
        q.rotation_left.copy_(r1)
        q.theta.copy_(torch.tensor([0.0, math.pi / 2], dtype=DT))
    w = torch.tensor(
        [[[[1.0, 2.0], [3.0, -4.0]]], [[[5.0, -1.0], [-2.0, 3.0]]]], dtype=DT)
    y = q(w)
    # ch0 unrotated: sign(W_std) with mean 0.5
    assert y[0].flatten().tolist() == [1, 1, 1, -1]
    # ch1 rotated: rows swapped, mean 1.25 -> [[-2, 3], [5, -1]] - 1.25
    assert y[1].flatten().tolist() == [-1, 1, 1, -1]


def test_rbnn_update_rotation_orthogonal_and_error_not_increasing():
    shape = (8, 4, 3, 3)  # fan-in 36 -> 6 x 6
    w = random_weight(shape, 14).float()
    q = RBNNWeight(shape)
    errors = [q.rotation_error(w).item()]
    for _ in range(6):
        q.update_rotation(w, steps=1)
        errors.append(q.rotation_error(w).item())
        for r in (q.rotation_left, q.rotation_right):
            assert r.dtype == torch.float32
            torch.testing.assert_close(
                r.t() @ r, torch.eye(r.shape[0]), rtol=0, atol=1e-5)
    for before, after in zip(errors, errors[1:]):
        assert after <= before * (1 + 1e-5)
    assert errors[-1] < errors[0] * 0.999


def test_rbnn_update_rotation_float64_and_default_steps():
    shape = (6, 3, 2, 2)  # fan-in 12 -> 3 x 4
    w = random_weight(shape, 15)
    q = RBNNWeight(shape).double()
    e0 = q.rotation_error(w).item()
    q.update_rotation(w)  # 3 steps
    e1 = q.rotation_error(w).item()
    q.update_rotation(w, steps=2)
    e2 = q.rotation_error(w).item()
    assert e2 <= e1 * (1 + 1e-12) and e1 < e0
    for r in (q.rotation_left, q.rotation_right):
        torch.testing.assert_close(
            r.t() @ r, torch.eye(r.shape[0], dtype=DT), rtol=0, atol=1e-12)
        torch.testing.assert_close(
            r @ r.t(), torch.eye(r.shape[0], dtype=DT), rtol=0, atol=1e-12)


def test_rbnn_rotation_error_formula_and_no_grad():
    shape = (3, 2, 2, 2)
    q = RBNNWeight(shape).double()
    with torch.no_grad():
        q.rotation_left.copy_(random_orthogonal(2, 16))
        q.rotation_right.copy_(random_orthogonal(4, 17))
    w = random_weight(shape, 18).requires_grad_()
    err = q.rotation_error(w)
    assert not err.requires_grad
    x = standardize_ref(w.detach()).reshape(3, 2, 4)
    v = q.rotation_left.t() @ x @ q.rotation_right
    torch.testing.assert_close(
        err, ((sign_ref(v) - v)**2).sum(), rtol=1e-10, atol=0)


def test_rbnn_update_rotation_does_not_touch_theta_or_weight():
    shape = (4, 2, 2, 2)
    q = RBNNWeight(shape)
    w = random_weight(shape, 19).float()
    w0, theta0 = w.clone(), q.theta.detach().clone()
    q.update_rotation(w)
    assert torch.equal(w, w0)
    assert torch.equal(q.theta.detach(), theta0)


# ------------------------------------------------------------- ReCUWeight


def recu_hand_weight():
    # ch0: spike -> W~ = [8/3, -1/3 x 8]
    # ch1: two spikes -> W~ = [2 sqrt7/3 x 2, -4/(3 sqrt7) x 7]
    # mean |W~| over the tensor = (16 + 8 sqrt7) / 54 = 0.68826
    ch0 = torch.tensor([1.0, 0, 0, 0, 0, 0, 0, 0, 0], dtype=DT)
    ch1 = torch.tensor([1.0, 1, 0, 0, 0, 0, 0, 0, 0], dtype=DT)
    return torch.stack([ch0, ch1]).view(2, 1, 3, 3)


MEAN_ABS = (16 + 8 * math.sqrt(7)) / 54


def recu_q(p):
    """The paper's plain standardisation (gain 1, no eps); the code's
    ``2 sqrt 2`` gain is checked in test_released_code.py."""
    q = ReCUWeight(gain=1.0, eps=0.0).double()
    q.set_progress(p)
    return q


def tau_by_hand(p):
    a = (0.99 - 0.85) / (math.e - 1)
    return a * math.exp(p) + 0.85 - a


@pytest.mark.parametrize('p', [0.0, 0.5, 1.0])
def test_recu_tau_buffer_and_clamp_bound(p):
    q = recu_q(p)
    tau = tau_by_hand(p)
    assert q.tau.item() == pytest.approx(tau, rel=1e-14)
    w_std = standardize_ref(recu_hand_weight())
    expected = -MEAN_ABS * math.log(2 - 2 * tau)
    assert q.clamp_bound(w_std).item() == pytest.approx(expected, rel=1e-12)


def test_recu_clamp_bound_hand_numbers():
    w_std = standardize_ref(recu_hand_weight())
    assert recu_q(0.0).clamp_bound(w_std).item() == pytest.approx(
        MEAN_ABS * 1.2039728043, rel=1e-9)  # -ln 0.3
    assert recu_q(1.0).clamp_bound(w_std).item() == pytest.approx(
        MEAN_ABS * 3.9120230054, rel=1e-9)  # -ln 0.02


def test_recu_default_tau_and_validation():
    assert ReCUWeight().tau.item() == pytest.approx(0.85, rel=1e-6)
    assert isinstance(ReCUWeight().grad, IdentitySTE)
    with pytest.raises(ValueError):
        ReCUWeight(tau_min=0.4)
    with pytest.raises(ValueError):
        ReCUWeight(tau_max=1.0)
    with pytest.raises(ValueError):
        ReCUWeight().set_progress(1.5)


# A weight whose standardised channels are not two-valued (with two-valued
# channels, like the hand weight above, any indicator gradient lies in
# span{1, W~} and the standardisation Jacobian would kill it anyway).
# W~ = [[ 2.6101, -0.1042, -0.5483, -0.2029, -0.4496, -0.3016, -0.0055,
#         -0.6470, -0.3509],
#       [-2.1528,  1.7924,  0.1266, -0.0049,  0.1705,  0.2581, -0.1802,
#         0.0609, -0.0706]]
# mean |W~| = 0.55762 -> Q(p=0) = 0.67135, Q(p=1) = 2.18141
def recu_varied_weight():
    return torch.tensor([[6, 0.5, -0.4, 0.3, -0.2, 0.1, 0.7, -0.6, 0.0],
                         [-5, 4, 0.2, -0.1, 0.3, 0.5, -0.5, 0.05, -0.25]],
                        dtype=DT).view(2, 1, 3, 3)


OUTSIDE = {
    0.0:
    torch.tensor([[1, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0, 0, 0,
                                                0]]).bool().view(2, 1, 3, 3),
    1.0:
    torch.tensor([[1, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0,
                                                0]]).bool().view(2, 1, 3, 3),
}


@pytest.mark.parametrize('p,bound', [(0.0, 0.67135), (1.0, 2.18141)])
def test_recu_window_on_varied_weight(p, bound):
    w_std = standardize_ref(recu_varied_weight())
    q_tau = -w_std.abs().mean().item() * math.log(2 - 2 * tau_by_hand(p))
    assert q_tau == pytest.approx(bound, abs=1e-5)
    assert recu_q(p).clamp_bound(w_std).item() == pytest.approx(
        q_tau, rel=1e-12)
    assert torch.equal(w_std.abs() > q_tau, OUTSIDE[p])


def test_recu_forward_is_sign_of_standardised():
    w = recu_varied_weight()
    for p in (0.0, 1.0):
        y, _ = weight_grad(recu_q(p), w, torch.ones_like(w))
        assert torch.equal(y, sign_ref(standardize_ref(w)))


@pytest.mark.parametrize('p', [0.0, 1.0])
def test_recu_gradient_zero_outside_window(p):
    w = recu_varied_weight()
    g = OUTSIDE[p].to(DT) * random_weight((2, 1, 3, 3), 23)
    _, grad = weight_grad(recu_q(p), w, g)
    assert torch.equal(grad, torch.zeros_like(w))


def test_recu_gradient_inside_window_passes():
    w = recu_varied_weight()
    # inside at both progress points
    g = (~OUTSIDE[0.0]).to(DT)
    _, grad = weight_grad(recu_q(0.0), w, g)
    assert grad.abs().sum() > 0.1
    # ch1's two outliers: outside at p = 0, inside at p = 1
    g = (OUTSIDE[0.0] & ~OUTSIDE[1.0]).to(DT)
    _, grad = weight_grad(recu_q(0.0), w, g)
    assert torch.equal(grad, torch.zeros_like(w))
    _, grad = weight_grad(recu_q(1.0), w, g)
    assert grad[1].abs().sum() > 0.1
    assert torch.equal(grad[0], torch.zeros_like(grad[0]))


def recu_reference(w, p):
    tau = tau_by_hand(p)
    w_std = standardize_ref(w)
    bound = (-w_std.detach().abs().mean() * math.log(2 - 2 * tau)).item()
    inside = (w_std.detach().abs() <= bound).to(w.dtype)
    c = w_std * inside + (torch.sign(w_std) * bound).detach() * (1 - inside)
    return sign_ref(c).detach() + (c - c.detach()), inside


@pytest.mark.parametrize('p', [0.0, 0.5, 1.0])
@pytest.mark.parametrize('shape', [(5, 3, 3, 3), (4, 16)])
def test_recu_grad_matches_reference(p, shape):
    torch.manual_seed(20)
    gen = torch.Generator().manual_seed(20)
    # heavy tails so that some entries fall outside the window
    w = torch.distributions.StudentT(2.0).sample(shape).to(DT)
    w = w + 0.01 * torch.randn(shape, generator=gen, dtype=DT)
    g = random_weight(shape, 21)
    y, grad = weight_grad(recu_q(p), w, g)
    wr = w.clone().requires_grad_()
    yr, inside = recu_reference(wr, p)
    yr.backward(g)
    assert torch.equal(y, yr.detach())
    if p == 0.0:
        assert (inside == 0).any()  # the clamp is exercised
    torch.testing.assert_close(grad, wr.grad, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize(
    'cls', [SteSignWeight, ScaledSignWeight, LibraPBWeight, ReCUWeight])
def test_weight_quantizers_keep_dtype_and_shape(cls):
    w = random_weight((3, 2, 3, 3), 22).float()
    y = cls()(w)
    assert y.dtype == torch.float32 and y.shape == w.shape
    assert (y != 0).all()


def test_fourier_and_rbnn_grad_types_configurable():
    assert isinstance(
        ScaledSignWeight(grad=dict(type='FourierGrad')).grad, FourierGrad)
    assert isinstance(
        RBNNWeight((2, 4), grad=dict(type='EDEGrad')).grad, EDEGrad)
