"""Activation quantizers: forward values and input gradients.

Gradients are compared with (a) derivatives written out from the papers and
the authors' released code (Bi-Real, IR-Net, RBNN, ReCU, FDA; see
``docs/methods.md``) and (b) references built with plain autograd and the
detach trick
``y = sign(z).detach() + (F(z) - F(z).detach())``, where ``F`` is an
antiderivative of the surrogate derivative written out here.
"""
import math

import pytest
import torch

from cmim_dense.models.quantizers import SignQuantizer
from cmim_dense.models.quantizers.activation_quantizers import (
    ApproxSign, EDESign, FourierSign, RBNNSign, ReCUSign, RSign, SteSign)
from cmim_dense.models.quantizers.surrogate_grads import (ApproxSignGrad,
                                                          ClipSTE, EDEGrad,
                                                          FourierGrad,
                                                          RBNNGrad)

DT = torch.float64
GRID = torch.tensor(
    [-2.0, -1.5, -1.0, -0.75, -0.5, -0.1, 0.0, 0.1, 0.5, 0.75, 1.0, 1.5, 2.0],
    dtype=DT)


def t_k(p, t_min=1e-2, t_max=1e1):
    t = t_min * 10**(p * math.log10(t_max / t_min))
    return t, max(1 / t, 1.0)


def sign_ref(z):
    return torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def detach_trick(z, antiderivative):
    f = antiderivative(z)
    return sign_ref(z).detach() + (f - f.detach())


# antiderivatives F (F' = surrogate derivative), written from the papers


def f_clip(z):
    mask = (z.abs() <= 1).to(z.dtype).detach()
    return z * mask


def f_approx(z):
    c = torch.clamp(z, -1, 1)
    return 2 * c - c * c.abs()


def f_ede(p):
    t, k = t_k(p)
    return lambda z: k * torch.tanh(t * z)


def rbnn_act_t_k(p):
    """RBNN's released code, activations: k = 1, t = max(t, 1)."""
    return max(t_k(p)[0], 1.0), 1.0


def f_rbnn(p, act=False):
    t, k = rbnn_act_t_k(p) if act else t_k(p)
    r = math.sqrt(2) / t

    def f(z):
        c = torch.clamp(z, -r, r)
        return k * (math.sqrt(2) * t * c - t * t * c * c.abs() / 2)

    return f


def f_fourier(n, omega=0.1):

    def f(z):
        c = torch.clamp(z, -1, 1)
        return 4 / math.pi * sum(
            torch.sin((2 * i + 1) * omega * c) / (2 * i + 1)
            for i in range(n + 1))

    return f


# derivatives written out


def d_clip(x):
    return (x.abs() <= 1).to(x.dtype)


def d_approx(x):
    return torch.where((x >= -1) & (x < 0), 2 + 2 * x,
                       torch.where((x >= 0) & (x < 1), 2 - 2 * x, 0.0))


def d_ede(p):
    t, k = t_k(p)
    return lambda x: k * t * (1 - torch.tanh(t * x)**2)


def d_rbnn(p, act=False):
    t, k = rbnn_act_t_k(p) if act else t_k(p)
    return lambda x: k * torch.clamp(math.sqrt(2) * t - t * t * x.abs(), min=0)


def d_fourier(n, omega=0.1):

    def d(x):
        s = sum(torch.cos((2 * i + 1) * omega * x) for i in range(n + 1))
        return torch.where(x.abs() > 1, 0.0, 4 * omega / math.pi * s)

    return d


def make(cls, p=None, **kwargs):
    q = cls(**kwargs).double()
    if p is not None:
        q.grad.set_progress(p)
    return q


# RBNN without the per-sample standardisation (tested in
# test_released_code.py): the sign and its two backward forms
RBNN_PAPER = dict(standardize=False, grad=dict(type='RBNNGrad'))
RBNN_CODE = dict(standardize=False)

# (name, factory(p), d, F) for sign-only quantizers at several progresses
CASES = [
    ('SteSign', lambda: make(SteSign), d_clip, f_clip),
    ('ApproxSign', lambda: make(ApproxSign), d_approx, f_approx),
    ('ReCUSign-eval', lambda: make(ReCUSign).eval(), d_approx, f_approx),
]
for _p in (0.0, 0.5, 1.0):
    CASES += [
        (f'EDESign-p{_p}', lambda p=_p: make(EDESign, p), d_ede(_p),
         f_ede(_p)),
        (f'RBNNSign-paper-p{_p}', lambda p=_p: make(RBNNSign, p, **RBNN_PAPER),
         d_rbnn(_p), f_rbnn(_p)),
        (f'RBNNSign-code-p{_p}', lambda p=_p: make(RBNNSign, p, **RBNN_CODE),
         d_rbnn(_p, True), f_rbnn(_p, True)),
        (f'FourierSign-p{_p}', lambda p=_p: make(FourierSign, p),
         d_fourier(math.floor(9 + 9 * _p)), f_fourier(math.floor(9 + 9 * _p))),
    ]
IDS = [c[0] for c in CASES]


def input_grad(q, x, g):
    x = x.clone().requires_grad_()
    y = q(x)
    y.backward(g)
    return y.detach(), x.grad


@pytest.mark.parametrize('name,factory,d,f', CASES, ids=IDS)
def test_forward_and_grad_on_grid(name, factory, d, f):
    g = torch.linspace(-1.0, 2.0, GRID.numel(), dtype=DT)
    y, grad = input_grad(factory(), GRID, g)
    assert torch.equal(y, sign_ref(GRID))
    torch.testing.assert_close(grad, g * d(GRID), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('name,factory,d,f', CASES, ids=IDS)
def test_grad_matches_detach_trick_reference(name, factory, d, f):
    gen = torch.Generator().manual_seed(1)
    x = 1.5 * torch.randn(2, 3, 4, 5, generator=gen, dtype=DT)
    g = torch.randn(2, 3, 4, 5, generator=gen, dtype=DT)
    y, grad = input_grad(factory(), x, g)

    xr = x.clone().requires_grad_()
    yr = detach_trick(xr, f)
    yr.backward(g)
    assert torch.equal(y, yr.detach())
    torch.testing.assert_close(grad, xr.grad, rtol=1e-9, atol=1e-12)


def test_hand_values_approx_sign():
    x = torch.tensor([[-1.0, -0.5, 0.0], [0.25, 0.9, 3.0]], dtype=DT)
    y, grad = input_grad(ApproxSign(), x, torch.ones_like(x))
    assert y.tolist() == [[-1, -1, 1], [1, 1, 1]]
    torch.testing.assert_close(
        grad, torch.tensor([[0.0, 1.0, 2.0], [1.5, 0.2, 0.0]], dtype=DT))


def test_hand_values_ste_sign():
    x = torch.tensor([-1.01, -1.0, -0.0, 0.3, 1.0, 1.01], dtype=DT)
    y, grad = input_grad(SteSign(), x, torch.full_like(x, 2.0))
    assert y.tolist() == [-1, -1, 1, 1, 1, 1]
    assert grad.tolist() == [0, 2, 2, 2, 2, 0]


SIGN_ONLY = [(SteSign, {}), (ApproxSign, {}), (EDESign, {}),
             (RBNNSign, RBNN_CODE), (FourierSign, {}), (ReCUSign, {})]


@pytest.mark.parametrize('cls,kwargs', SIGN_ONLY)
def test_forward_never_zero_nan_propagates(cls, kwargs):
    q = cls(**kwargs).eval()  # ReCUSign in training: see the test below
    x = torch.tensor([[0.0, -0.0, 1e-6, -1e-6, float('nan'), 5.0]])
    y = q(x)
    assert y[0, :4].tolist() == [1, 1, 1, -1] and y[0, 5].item() == 1
    assert torch.isnan(y[0, 4])
    # the originals' convention, one switch away: torch.sign(0) = 0
    y0 = cls(sign_zero=0.0, **kwargs).eval()(x)
    assert y0[0, :4].tolist() == [0, 0, 1, -1] and torch.isnan(y0[0, 4])


def test_sign_zero_is_validated():
    with pytest.raises(ValueError, match='sign_zero'):
        SteSign(sign_zero=0.5)


@pytest.mark.parametrize('cls,grad_cls', [(SteSign, ClipSTE),
                                          (ApproxSign, ApproxSignGrad),
                                          (EDESign, EDEGrad),
                                          (RBNNSign, RBNNGrad),
                                          (FourierSign, FourierGrad),
                                          (ReCUSign, ApproxSignGrad),
                                          (SignQuantizer, ClipSTE)])
def test_default_surrogates(cls, grad_cls):
    assert type(cls().grad) is grad_cls
    assert type(RSign(2).grad) is ApproxSignGrad


def test_custom_surrogate_config():
    q = SignQuantizer(grad=dict(type='EDEGrad', t_min=1e-3))
    assert isinstance(q.grad, EDEGrad)
    assert q.grad.t.item() == pytest.approx(1e-3, rel=1e-6)
    q = EDESign(grad=dict(type='RBNNGrad'))
    assert isinstance(q.grad, RBNNGrad)
    cfg = dict(type='ClipSTE', clip=0.5)
    ApproxSign(grad=cfg)
    assert cfg == dict(type='ClipSTE', clip=0.5)  # config not consumed


def test_float32_input():
    q = EDESign()
    q.grad.set_progress(0.5)
    x = torch.tensor([-0.8, 0.0, 0.4], requires_grad=True)
    q(x).sum().backward()
    assert x.grad.dtype == torch.float32
    torch.testing.assert_close(
        x.grad, d_ede(0.5)(x.detach().double()).float(), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ RSign


def test_rsign_hand_values():
    q = RSign(2).double()
    with torch.no_grad():
        q.bias.copy_(torch.tensor([0.2, -0.5], dtype=DT))
    x = torch.tensor([[[[0.5, 0.2, -1.0]], [[0.0, -0.3, 0.9]]]],
                     dtype=DT,
                     requires_grad=True)  # (1, 2, 1, 3)
    y = q(x)
    # x - b: ch0 [0.3, 0.0, -1.2], ch1 [0.5, 0.2, 1.4]
    assert y.tolist() == [[[[1, 1, -1]], [[1, 1, 1]]]]
    y.sum().backward()
    expected = torch.tensor([[[[1.4, 2.0, 0.0]], [[1.0, 1.6, 0.0]]]], dtype=DT)
    torch.testing.assert_close(x.grad, expected)
    # bias gradient: minus the channel-summed surrogate gradient
    torch.testing.assert_close(q.bias.grad, torch.tensor([-3.4, -2.6],
                                                         dtype=DT))


def test_rsign_random_against_formula():
    gen = torch.Generator().manual_seed(2)
    q = RSign(3).double()
    bias = torch.tensor([0.3, -0.2, 0.05], dtype=DT)
    with torch.no_grad():
        q.bias.copy_(bias)
    x = torch.randn(4, 3, 5, 6, generator=gen, dtype=DT, requires_grad=True)
    g = torch.randn(4, 3, 5, 6, generator=gen, dtype=DT)
    y = q(x)
    z = x.detach() - bias.view(1, 3, 1, 1)
    assert torch.equal(y.detach(), sign_ref(z))
    y.backward(g)
    local = g * torch.clamp(2 - 2 * z.abs(), min=0)
    torch.testing.assert_close(x.grad, local, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(
        q.bias.grad, -local.sum(dim=(0, 2, 3)), rtol=1e-12, atol=1e-12)


def test_rsign_linear_input_channel_last():
    q = RSign(4, channel_dim=-1).double()
    bias = torch.tensor([1.0, -1.0, 0.5, 0.0], dtype=DT)
    with torch.no_grad():
        q.bias.copy_(bias)
    x = torch.tensor([[0.5, -0.5, 0.5, -0.25], [2.0, -2.0, 1.0, 0.75]],
                     dtype=DT,
                     requires_grad=True)
    y = q(x)
    # x - b = [[-0.5, 0.5, 0, -0.25], [1, -1, 0.5, 0.75]]
    assert y.tolist() == [[-1, 1, 1, -1], [1, -1, 1, 1]]
    y.sum().backward()
    expected = torch.tensor([[1.0, 1.0, 2.0, 1.5], [0.0, 0.0, 1.0, 0.5]],
                            dtype=DT)
    torch.testing.assert_close(x.grad, expected)
    torch.testing.assert_close(q.bias.grad, -expected.sum(0))


def test_rsign_errors_and_init():
    assert RSign(5).bias.shape == (5, )
    assert torch.equal(RSign(5).bias.detach(), torch.zeros(5))
    assert RSign(5).bias.requires_grad
    with pytest.raises(ValueError):
        RSign(0)
    with pytest.raises(ValueError, match='channels'):
        RSign(3)(torch.zeros(1, 4, 2, 2))
    with pytest.raises(ValueError):
        RSign(3, channel_dim=-1)(torch.zeros(2, 4))


# --------------------------------------------------------------- ReCUSign


def recu_reference(x, eps=1e-5):
    """Normalise each sample by sqrt(unbiased var over non-batch dims + eps)
    (torch's ``var`` default, as in ReCU's code), autograd through it, then
    ApproxSign with the detach trick."""
    dims = tuple(range(1, x.dim()))
    n = math.prod(x.shape[1:])
    mean = x.sum(dims, keepdim=True) / n
    var = ((x - mean)**2).sum(dims, keepdim=True) / (n - 1)
    z = x / torch.sqrt(var + eps)
    return detach_trick(z, f_approx), z


@pytest.mark.parametrize('shape', [(3, 2, 4, 4), (5, 7), (2, 3, 6)])
def test_recu_sign_train_matches_reference(shape):
    gen = torch.Generator().manual_seed(3)
    scale = torch.tensor([0.5, 3.0, 1.0, 2.0,
                          0.1])[:shape[0]].view((-1, ) + (1, ) *
                                                (len(shape) - 1)).to(DT)
    x = (torch.randn(shape, generator=gen, dtype=DT) * scale + 0.2)
    g = torch.randn(shape, generator=gen, dtype=DT)
    q = ReCUSign().double().train()
    y, grad = input_grad(q, x, g)

    xr = x.clone().requires_grad_()
    yr, z = recu_reference(xr)
    yr.backward(g)
    assert torch.equal(y, yr.detach())
    assert torch.equal(y, sign_ref(x))  # normalisation keeps the sign
    torch.testing.assert_close(grad, xr.grad, rtol=1e-9, atol=1e-12)
    # the window really moved: some normalised values lie inside (-1, 1)
    # where the raw ones do not, so the test distinguishes the two modes
    inside_norm = z.detach().abs() < 1
    inside_raw = x.abs() < 1
    assert (inside_norm != inside_raw).any()


def test_recu_sign_train_gradient_is_scale_invariant_direction():
    """With eps = 0 the normalised z(c x) = z(x) for c > 0, so the gradient,
    J_z(x)^T (g * d(z)), is orthogonal to x per sample (J_z(x) x = 0)."""
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(2, 3, 3, 3, generator=gen, dtype=DT)
    g = torch.randn(2, 3, 3, 3, generator=gen, dtype=DT)
    q = ReCUSign(eps=0.0).double().train()
    _, grad = input_grad(q, x, g)
    # with eps = 0, z(cx) = z(x): the directional derivative along x is 0
    per_sample = (grad * x).sum(dim=(1, 2, 3))
    torch.testing.assert_close(
        per_sample, torch.zeros(2, dtype=DT), rtol=0, atol=1e-10)


def test_recu_sign_train_nan_poisons_only_its_sample():
    x = torch.tensor([[0.5, float('nan'), -1.0], [0.5, -0.25, 0.0]])
    y = ReCUSign().train()(x)
    assert torch.isnan(y[0]).all()
    assert y[1].tolist() == [1, -1, 1]


def test_recu_sign_eval_has_no_normalisation():
    x = torch.tensor([[[[-3.0, -0.5], [0.25, 4.0]]]], dtype=DT)
    q = ReCUSign().double().eval()
    y, grad = input_grad(q, x, torch.ones_like(x))
    assert y.tolist() == [[[[-1, -1], [1, 1]]]]
    torch.testing.assert_close(
        grad, torch.tensor([[[[0.0, 1.0], [1.5, 0.0]]]], dtype=DT))


def test_recu_sign_eps():
    q = ReCUSign(eps=0.5).double().train()
    x = torch.tensor([[1.0, -1.0, 1.0, -1.0]], dtype=DT, requires_grad=True)
    # unbiased var = 4/3, z = x / sqrt(4/3 + 0.5) = x / sqrt(11/6)
    q(x).sum().backward()
    xr = x.detach().clone().requires_grad_()
    yr, z = recu_reference(xr, eps=0.5)
    torch.testing.assert_close(
        z.detach().abs(), torch.full((1, 4), 1 / math.sqrt(11 / 6), dtype=DT))
    yr.sum().backward()
    torch.testing.assert_close(x.grad, xr.grad)
