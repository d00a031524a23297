"""The XNOR-popcount engine against convolutions of +-1 tensors."""
import pytest
import torch
import torch.nn.functional as F

from cmim_dense import ops
from cmim_dense.ops import bitconv

needs_engine = pytest.mark.skipif(
    not ops.engine_available(), reason='C engine not built')
ISAS = ops.available_isas() or ('none', )

# (C_in, C_out, k, stride, dilation, groups, pad_value, H, W)
CASES = [
    (70, 13, 3, 1, 1, 1, 1.0, 7, 9),  # odd channels, 2 words, +1 pad
    (64, 64, 3, 2, 1, 1, -1.0, 9, 8),  # stride 2, -1 pad, exact word
    (130, 24, 3, 1, 2, 2, 0.0, 8, 11),  # dilation 2, groups, 0 pad
    (33, 9, 1, 2, 1, 1, 1.0, 7, 5),  # 1x1, stride 2
    (96, 40, 3, 1, 4, 1, 0.0, 10, 9),  # dilation 4 (wider than the input)
    (40, 40, 3, 2, 1, 4, 0.0, 6, 7),  # 4 groups of 10 channels
    (3, 5, 3, 1, 1, 1, -1.0, 4, 4),  # 3 channels, 5 outputs (one block)
]


def reference_dot(x,
                  signs,
                  stride,
                  pad,
                  dilation,
                  groups,
                  pad_value,
                  threshold=None):
    """Integer dot products from the definition, in float64."""
    xs = x.double()
    if threshold is not None:
        xs = xs - threshold.double().view(1, -1, 1, 1)
    a = torch.where(xs >= 0, 1.0, -1.0).double()
    a = F.pad(a, (pad, ) * 4, value=pad_value)
    return F.conv2d(a, signs.double(), None, stride, 0, dilation, groups)


def run(x, signs, stride, pad, dilation, groups, pad_value, **kwargs):
    return ops.bitconv2d(
        x,
        ops.pack_weight(signs, groups),
        signs.shape, (stride, stride), (pad, ) * 4, (dilation, dilation),
        groups,
        pad_value,
        tapsum=ops.tap_sums(signs),
        **kwargs)


@pytest.fixture
def isa(request):
    name = request.param
    if name == 'none':
        pytest.skip('C engine not built')
    previous = ops.set_isa(name)
    yield name
    ops.set_isa(previous)


@needs_engine
@pytest.mark.parametrize('isa', ISAS, indirect=True)
@pytest.mark.parametrize('case', CASES)
def test_integer_dot_products_exact(isa, case):
    cin, cout, k, s, d, g, pv, h, w = case
    x = torch.randn(2, cin, h, w)
    signs = torch.randn(cout, cin // g, k, k).sign()
    pad = d * (k - 1) // 2
    threshold = torch.randn(cin) * 0.3
    got = run(x, signs, s, pad, d, g, pv, raw=True, threshold=threshold)
    ref = reference_dot(x, signs, s, pad, d, g, pv, threshold)
    assert got.shape == ref.shape
    assert torch.equal(got.double(), ref)


@needs_engine
def test_pack_weight_bit_positions():
    # one -1 at input channel 65 of tap (0, 1) of output channel 9
    signs = torch.ones(10, 70, 2, 2)
    signs[9, 65, 0, 1] = -1
    packed = ops.pack_weight(signs)
    # layout [group][block][tap * words + word][lane]: block 1, lane 1,
    # k = (0 * 2 + 1) * 2 + 1 = 3, bit 65 - 64 = 1
    k_words = 2 * 2 * 2
    expected = torch.zeros(1 * 2 * k_words * 8, dtype=torch.int64)
    expected[(1 * k_words + 3) * 8 + 1] = 2
    assert torch.equal(packed, expected)
    assert torch.equal(ops.unpack_weight(packed, signs.shape, 1), signs)


@needs_engine
def test_epilogue_affine_residual_and_activations():
    x = torch.randn(2, 20, 6, 5)
    signs = torch.randn(12, 20, 3, 3).sign()
    dot = reference_dot(x, signs, 1, 1, 1, 1, 1.0)
    alpha, beta = torch.rand(12) + 0.5, torch.randn(12)
    ss = torch.rand(2) + 0.5
    res = torch.randn(2, 12, 6, 5)
    g, slope, z = torch.randn(12), torch.rand(12), torch.randn(12)
    lin = dot * (alpha.double().view(1, -1, 1, 1) * ss.double().view(
        -1, 1, 1, 1)) + beta.double().view(1, -1, 1, 1) + res.double()
    v = lin - g.double().view(1, -1, 1, 1)
    rprelu = torch.where(v > 0, v, slope.double().view(1, -1, 1, 1) * v) + \
        z.double().view(1, -1, 1, 1)
    common = dict(alpha=alpha, beta=beta, sample_scale=ss, residual=res)
    got = run(x, signs, 1, 1, 1, 1, 1.0, act=('clamp', -1.0, 1.0), **common)
    torch.testing.assert_close(
        got.double(), lin.clamp(-1, 1), rtol=1e-5, atol=1e-6)
    got = run(x, signs, 1, 1, 1, 1, 1.0, act=('rprelu', g, slope, z), **common)
    torch.testing.assert_close(got.double(), rprelu, rtol=1e-5, atol=1e-5)


@needs_engine
def test_memory_formats_threads_and_out_view():
    x = torch.randn(1, 50, 9, 7)
    signs = torch.randn(16, 50, 3, 3).sign()
    alpha, beta = torch.rand(16), torch.randn(16)
    ref = run(x, signs, 1, 1, 1, 1, 0.0, alpha=alpha, beta=beta)
    assert ref.is_contiguous(memory_format=torch.channels_last)
    x_cl = x.contiguous(memory_format=torch.channels_last)
    res_t = torch.randn(1, 9, 7, 16).permute(0, 3, 1, 2)  # channels_last
    res_nchw = res_t.contiguous()
    ops.set_num_threads(2)
    try:
        a = run(
            x_cl,
            signs,
            1,
            1,
            1,
            1,
            0.0,
            alpha=alpha,
            beta=beta,
            residual=res_t)
    finally:
        ops.set_num_threads(None)
    b = run(
        x, signs, 1, 1, 1, 1, 0.0, alpha=alpha, beta=beta, residual=res_nchw)
    assert torch.equal(a, b)
    assert torch.equal(a, ref + res_nchw)
    buf = torch.zeros(1, 9, 7, 40).permute(0, 3, 1, 2)
    run(x, signs, 1, 1, 1, 1, 0.0, alpha=alpha, beta=beta, out=buf[:, 8:24])
    assert torch.equal(buf[:, 8:24], ref)
    assert buf[:, :8].abs().sum() == 0 and buf[:, 24:].abs().sum() == 0


@needs_engine
def test_pytorch_fallback_matches(monkeypatch):
    x = torch.randn(2, 70, 8, 6)
    signs = torch.randn(24, 35, 3, 3).sign()
    kwargs = dict(
        alpha=torch.rand(24),
        beta=torch.randn(24),
        threshold=torch.randn(70) * 0.2,
        act=('clamp', -1.3, 1.3))
    engine = run(x, signs, 2, 2, 2, 2, 0.0, **kwargs)
    monkeypatch.setattr(bitconv, '_ext', None)
    monkeypatch.setattr(bitconv, '_ext_error', 'forced by the test')
    monkeypatch.setattr(bitconv, '_warned', False)
    with pytest.warns(RuntimeWarning, match='forced by the test'):
        fallback = run(x, signs, 2, 2, 2, 2, 0.0, **kwargs)
    assert ops.engine_isa() == 'pytorch'
    torch.testing.assert_close(fallback, engine, rtol=1e-5, atol=1e-6)


def test_fallback_env_var(monkeypatch):
    monkeypatch.setenv('CMIM_BITCONV_FALLBACK', '1')
    monkeypatch.setattr(bitconv, '_ext', None)
    monkeypatch.setattr(bitconv, '_ext_error', None)
    assert not ops.engine_available()
    assert ops.engine_isa() == 'pytorch'
    assert 'CMIM_BITCONV_FALLBACK' in bitconv._ext_error


@pytest.mark.parametrize('kwargs, match',
                         [(dict(pad_value=0.5), 'pad_value'),
                          (dict(groups=3), 'channels'),
                          (dict(alpha=None), 'alpha and beta'),
                          (dict(tapsum=None), 'tapsum')])
def test_bad_arguments(kwargs, match):
    x = torch.randn(1, 8, 5, 5)
    signs = torch.randn(4, 8, 3, 3).sign()
    args = dict(
        stride=(1, 1),
        padding=(1, 1, 1, 1),
        dilation=(1, 1),
        groups=1,
        pad_value=0.0,
        alpha=torch.ones(4),
        beta=torch.zeros(4),
        tapsum=ops.tap_sums(signs))
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        ops.bitconv2d(x, ops.pack_weight(signs), signs.shape, **args)


@needs_engine
def test_set_isa_rejects_unknown():
    with pytest.raises(ValueError, match='not available'):
        ops.set_isa('neon9000')
