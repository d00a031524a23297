"""Output scales (XNOR-Net beta / K, XNOR++ Gamma, per-channel scale)
against hand computations."""
import numpy as np
import pytest
import torch

from cmim_dense.models.quantizers.output_scales import (ChannelScale,
                                                        GammaScale, XNORScale)

DT = torch.float64
# XNORScale's box filter 1 / (kh kw) is built in float32 (a buffer made with
# the default dtype), so float64 K maps are exact only to float32 rounding of
# 1 / (kh kw) (relative ~3e-8); spatial checks use this tolerance.
RTOL_BOX = 1e-7

# ------------------------------------------------------------ XNORScale


def test_xnor_sample_mode_hand_values():
    latent = torch.tensor(
        [[[[1.0, -2.0]], [[3.0, -4.0]]], [[[0.0, 0.5]], [[-0.5, 1.0]]]],
        dtype=DT)
    # beta = mean |x| per sample over C, H, W: [2.5, 0.5]
    out = torch.arange(2 * 3 * 2 * 2, dtype=DT).view(2, 3, 2, 2) - 5
    y = XNORScale()(out, latent)
    expected = out * torch.tensor([2.5, 0.5], dtype=DT).view(2, 1, 1, 1)
    torch.testing.assert_close(y, expected, rtol=0, atol=0)


def test_xnor_sample_mode_linear():
    latent = torch.tensor([[1.0, -1.0, 2.0, 0.0], [-3.0, 3.0, 0.0, 2.0]],
                          dtype=DT)
    out = torch.ones(2, 5, dtype=DT)
    y = XNORScale(mode='sample')(out, latent)
    torch.testing.assert_close(y, torch.tensor([[1.0] * 5, [2.0] * 5],
                                               dtype=DT))


def test_xnor_scale_is_detached():
    latent = torch.tensor([[[[1.0, -2.0]]], [[[4.0, 0.0]]]],
                          dtype=DT,
                          requires_grad=True)
    out = torch.ones(2, 2, 1, 2, dtype=DT, requires_grad=True)
    y = XNORScale()(out, latent)
    y.sum().backward()
    assert latent.grad is None
    expected = torch.tensor([1.5, 2.0], dtype=DT).view(2, 1, 1,
                                                       1).expand(2, 2, 1, 2)
    torch.testing.assert_close(out.grad, expected)


# |x| of the 1x1x4x4 input: 0..15 row-major
ABS_4x4 = np.arange(16, dtype=float).reshape(4, 4)
# 3x3 box sums with zero padding 1, by hand (e.g. (0, 0): 0+1+4+5 = 10,
# (1, 1): 0+1+2+4+5+6+8+9+10 = 45)
BOX_SUMS_S1 = np.array(
    [[10, 18, 24, 18], [27, 45, 54, 39], [51, 81, 90, 63], [42, 66, 72, 50]],
    dtype=float)


def spatial_input():
    signs = torch.tensor(
        [[1, -1, 1, -1], [-1, 1, -1, 1], [1, 1, -1, -1], [-1, -1, 1, 1]],
        dtype=DT)
    return (torch.tensor(ABS_4x4, dtype=DT) * signs).view(1, 1, 4, 4)


def spatial_scale(stride, kernel=(3, 3), pad=(1, 1, 1, 1), dilation=(1, 1)):
    return XNORScale(
        mode='spatial',
        kernel_size=kernel,
        stride=stride,
        dilation=dilation,
        pad=pad)


def test_xnor_spatial_stride1_hand():
    out = torch.ones(1, 2, 4, 4, dtype=DT)
    y = spatial_scale((1, 1))(out, spatial_input())
    k_map = torch.tensor(BOX_SUMS_S1 / 9, dtype=DT)
    torch.testing.assert_close(
        y, k_map.expand(1, 2, 4, 4), rtol=RTOL_BOX, atol=0)


def test_xnor_spatial_stride2_hand():
    out = torch.full((1, 3, 2, 2), 2.0, dtype=DT)
    y = spatial_scale((2, 2))(out, spatial_input())
    # output positions (0, 0), (0, 2), (2, 0), (2, 2) of the stride-1 map
    k_map = torch.tensor([[10, 24], [51, 90]], dtype=DT) / 9
    torch.testing.assert_close(
        y, 2 * k_map.expand(1, 3, 2, 2), rtol=RTOL_BOX, atol=0)


def k_map_by_loop(latent, kernel, stride, pad, dilation):
    """A = mean_c |x|, zero-padded (F.pad order: left, right, top, bottom),
    then the box average over the dilated kernel at each strided position."""
    a = np.abs(latent).mean(1)
    left, right, top, bottom = pad
    a = np.pad(a, ((0, 0), (top, bottom), (left, right)))
    kh, kw = kernel
    sh, sw = stride
    dh, dw = dilation
    n, h, w = a.shape
    oh = (h - dh * (kh - 1) - 1) // sh + 1
    ow = (w - dw * (kw - 1) - 1) // sw + 1
    k = np.zeros((n, 1, oh, ow))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                total = 0.0
                for u in range(kh):
                    for v in range(kw):
                        total += a[b, i * sh + u * dh, j * sw + v * dw]
                k[b, 0, i, j] = total / (kh * kw)
    return k


@pytest.mark.parametrize('kernel,stride,pad,dilation', [
    ((3, 3), (1, 1), (1, 1, 1, 1), (1, 1)),
    ((3, 3), (2, 2), (1, 1, 1, 1), (1, 1)),
    ((3, 1), (1, 2), (0, 0, 1, 1), (1, 1)),
    ((3, 3), (1, 1), (2, 2, 2, 2), (2, 2)),
    ((2, 2), (2, 2), (0, 1, 0, 1), (1, 1)),
])
def test_xnor_spatial_against_loop(kernel, stride, pad, dilation):
    gen = torch.Generator().manual_seed(0)
    latent = torch.randn(2, 3, 7, 6, generator=gen, dtype=DT)
    k = k_map_by_loop(latent.numpy(), kernel, stride, pad, dilation)
    out = torch.randn(2, 4, *k.shape[-2:], generator=gen, dtype=DT)
    y = spatial_scale(stride, kernel, pad, dilation)(out, latent)
    torch.testing.assert_close(
        y, out * torch.tensor(k), rtol=RTOL_BOX, atol=1e-14)


def test_xnor_spatial_float32_and_no_state():
    q = spatial_scale((1, 1))
    assert list(q.state_dict()) == []  # the box filter is not saved
    y = q(torch.ones(1, 1, 4, 4), spatial_input().float())
    assert y.dtype == torch.float32
    torch.testing.assert_close(
        y[0, 0], torch.tensor(BOX_SUMS_S1 / 9, dtype=torch.float32))


def test_xnor_errors():
    with pytest.raises(ValueError, match='mode'):
        XNORScale(mode='channel')
    with pytest.raises(ValueError, match='conv'):
        XNORScale(mode='spatial')


# ------------------------------------------------------------ GammaScale


def test_gamma_channel_only():
    q = GammaScale(3).double()
    assert q.spatial_size is None
    assert torch.equal(q.scale.detach(), torch.ones(3, dtype=DT))
    assert not hasattr(q, 'rows') or q.rows is None
    with torch.no_grad():
        q.scale.copy_(torch.tensor([1.0, -2.0, 0.5], dtype=DT))
    for size in ((4, 4), (3, 7)):
        out = torch.ones(2, 3, *size, dtype=DT)
        y = q(out, None)
        expected = torch.tensor([1.0, -2.0, 0.5], dtype=DT).view(1, 3, 1, 1)
        torch.testing.assert_close(y, expected.expand_as(out))


def test_gamma_spatial_hand_values_and_grads():
    q = GammaScale(2, spatial_size=(2, 3)).double()
    for p in (q.scale, q.rows, q.cols):
        assert torch.equal(p.detach(), torch.ones_like(p))
    o = torch.tensor([2.0, -1.0], dtype=DT)
    h = torch.tensor([0.5, 3.0], dtype=DT)
    w = torch.tensor([1.0, 2.0, -1.0], dtype=DT)
    with torch.no_grad():
        q.scale.copy_(o)
        q.rows.copy_(h)
        q.cols.copy_(w)
    gen = torch.Generator().manual_seed(1)
    out = torch.randn(2, 2, 2, 3, generator=gen, dtype=DT, requires_grad=True)
    g = torch.randn(2, 2, 2, 3, generator=gen, dtype=DT)
    y = q(out, None)
    # Gamma[c, i, j] = o_c h_i w_j, e.g. Gamma[1, 1, 2] = -1 * 3 * -1 = 3
    gamma = torch.tensor([[[1.0, 2.0, -1.0], [6.0, 12.0, -6.0]],
                          [[-0.5, -1.0, 0.5], [-3.0, -6.0, 3.0]]],
                         dtype=DT)
    torch.testing.assert_close(y, out * gamma, rtol=1e-14, atol=0)
    y.backward(g)
    o_d = out.detach()
    torch.testing.assert_close(out.grad, g * gamma)
    torch.testing.assert_close(q.scale.grad,
                               torch.einsum('ncij,i,j->c', g * o_d, h, w))
    torch.testing.assert_close(q.rows.grad,
                               torch.einsum('ncij,c,j->i', g * o_d, o, w))
    torch.testing.assert_close(q.cols.grad,
                               torch.einsum('ncij,c,i->j', g * o_d, o, h))


def test_gamma_follows_the_feature_size():
    """At another output size the row / column factors are resized by 1-D
    linear interpolation (align_corners=False): whole-image inference at
    another resolution works. Hand values: rows [0.5, 3] sampled at source
    positions (i + 0.5) * 2 / 4 - 0.5 = [-0.25, 0.25, 0.75, 1.25], clamped
    to [0, 1] -> [0.5, 1.125, 2.375, 3]."""
    q = GammaScale(1, spatial_size=(2, 3)).double()
    with torch.no_grad():
        q.rows.copy_(torch.tensor([0.5, 3.0], dtype=DT))
        q.cols.copy_(torch.tensor([1.0, 2.0, -1.0], dtype=DT))
    y = q(torch.ones(1, 1, 4, 3, dtype=DT), None)
    rows = torch.tensor([0.5, 1.125, 2.375, 3.0], dtype=DT)
    cols = torch.tensor([1.0, 2.0, -1.0], dtype=DT)
    torch.testing.assert_close(y[0, 0], rows[:, None] * cols[None, :])
    # one output column: the centre of the three, cols[1]
    y = q(torch.ones(1, 1, 2, 1, dtype=DT), None)
    torch.testing.assert_close(y[0, 0, :, 0],
                               2.0 * torch.tensor([0.5, 3.0], dtype=DT))
    # the training size uses the factors unchanged, and gradients reach them
    out = torch.ones(1, 1, 5, 7, dtype=DT)
    q(out, None).sum().backward()
    assert q.rows.grad.abs().sum() > 0 and q.cols.grad.abs().sum() > 0
    with pytest.raises(ValueError):
        GammaScale(2, spatial_size=(4, 4), channel_dim=-1)
    with pytest.raises(ValueError, match='positive'):
        GammaScale(2, spatial_size=(0, 4))


def test_gamma_linear_channel_only():
    q = GammaScale(3, channel_dim=-1).double()
    with torch.no_grad():
        q.scale.copy_(torch.tensor([1.0, 2.0, 3.0], dtype=DT))
    y = q(torch.ones(4, 3, dtype=DT), None)
    torch.testing.assert_close(y,
                               torch.tensor([[1.0, 2.0, 3.0]] * 4, dtype=DT))


# ---------------------------------------------------------- ChannelScale


def test_channel_scale_init_and_forward():
    q = ChannelScale(3, init=0.5).double()
    assert torch.equal(q.scale.detach(), torch.full((3, ), 0.5, dtype=DT))
    assert torch.equal(ChannelScale(2).scale.detach(), torch.ones(2))
    with torch.no_grad():
        q.scale.copy_(torch.tensor([1.0, -2.0, 4.0], dtype=DT))
    gen = torch.Generator().manual_seed(2)
    out = torch.randn(2, 3, 4, 5, generator=gen, dtype=DT, requires_grad=True)
    latent = torch.randn(
        2, 6, 4, 5, generator=gen, dtype=DT, requires_grad=True)
    g = torch.randn(2, 3, 4, 5, generator=gen, dtype=DT)
    y = q(out, latent)
    s = torch.tensor([1.0, -2.0, 4.0], dtype=DT).view(1, 3, 1, 1)
    torch.testing.assert_close(y, out.detach() * s, rtol=0, atol=0)
    y.backward(g)
    torch.testing.assert_close(out.grad, g * s)
    torch.testing.assert_close(q.scale.grad,
                               (g * out.detach()).sum(dim=(0, 2, 3)))
    assert latent.grad is None


def test_channel_scale_uniform_init():
    """ReCU's code: torch.rand, U[0, 1) per channel."""
    torch.manual_seed(3)
    q = ChannelScale(1000, init='uniform')
    values = q.scale.detach()
    assert values.min() >= 0 and values.max() < 1
    assert 0.45 < values.mean().item() < 0.55
    assert values.unique().numel() == 1000
    with pytest.raises(ValueError, match='init'):
        ChannelScale(2, init='normal')


def test_channel_scale_weight_init_is_lazy_and_loading_cancels_it():
    """RBNN's code: s_c = mean |W_c|, taken when the weight is final."""
    q = ChannelScale(2, init='weight').double()
    assert q.needs_weight_init
    w = torch.tensor([[1.0, -3.0], [0.5, 0.25]], dtype=DT)
    q.init_from_weight(w)
    torch.testing.assert_close(q.scale.detach(),
                               torch.tensor([2.0, 0.375], dtype=DT))
    assert not q.needs_weight_init
    fresh = ChannelScale(2, init='weight').double()
    fresh.load_state_dict(dict(scale=torch.tensor([7.0, 8.0], dtype=DT)))
    assert not fresh.needs_weight_init
    with pytest.raises(ValueError, match='channels'):
        ChannelScale(3, init='weight').init_from_weight(w)


def test_channel_scale_linear():
    q = ChannelScale(2, channel_dim=-1).double()
    with torch.no_grad():
        q.scale.copy_(torch.tensor([3.0, -1.0], dtype=DT))
    out = torch.tensor([[1.0, 2.0], [-1.0, 0.5], [0.0, 4.0]], dtype=DT)
    torch.testing.assert_close(
        q(out, None),
        torch.tensor([[3.0, -2.0], [-3.0, -0.5], [0.0, -4.0]], dtype=DT))
