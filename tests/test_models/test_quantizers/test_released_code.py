"""Every binarizer's default against its authors' released code.

Each reference below re-implements, in plain torch and independently of
``cmim_dense``'s classes, the forward pass of the original binary conv as
its released code writes it (see ``docs/methods.md`` for the files):
autograd functions with the originals' custom backward, their
standardisations, scales and mixes. A :class:`BinaryConv2d` built with the
originals' conventions (``pad_value=0``, ``sign_zero=0``: zero padding and
``torch.sign``) must give the same outputs and the same gradients for the
input, the latent weight and every learnable parameter, on random inputs
with values outside [-1, 1], at training progress 0, 0.5 and 1, within
1e-6 (float64).
"""
import math

import pytest
import torch
import torch.nn.functional as F

from cmim_dense.models.layers import BinaryConv2d

DT = torch.float64
TOL = 1e-6
PROGRESS = (0.0, 0.5, 1.0)
C_IN, C_OUT = 4, 6


class RefSign(torch.autograd.Function):
    """The originals' ``BinaryQuantize``: torch.sign forward, a given
    derivative in the backward pass."""

    @staticmethod
    def forward(ctx, x, derivative):
        ctx.save_for_backward(x)
        ctx.derivative = derivative
        return torch.sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x, ) = ctx.saved_tensors
        return grad * ctx.derivative(x), None


def t_k(p):
    """IR-Net / RBNN ``Log_UP``: t = 10^(log10 Tmin + p (log10 Tmax -
    log10 Tmin)), k = max(1/t, 1), Tmin 1e-2, Tmax 1e1."""
    t = 10**(-2 + p * 3)
    return t, max(1 / t, 1.0)


def clip_ste(x):
    return (x.abs() <= 1).to(x.dtype)


def conv(a, w, bias=None):
    return F.conv2d(a, w, bias, 1, 1)  # 3x3, stride 1, zero padding 1


def per_out(v):
    return v.view(-1, 1, 1, 1)


def mean_abs_per_out(w):
    return w.abs().view(w.size(0), -1).mean(-1).view(-1, 1, 1, 1)


def bireal_activation(x):
    """Bi-Real / ReActNet ``BinaryActivation``: piecewise polynomial, its
    value replaced by sign in the forward pass."""
    out_forward = torch.sign(x)
    mask1 = (x < -1).to(x.dtype)
    mask2 = (x < 0).to(x.dtype)
    mask3 = (x < 1).to(x.dtype)
    out1 = -1 * mask1 + (x * x + 2 * x) * (1 - mask1)
    out2 = out1 * mask2 + (-x * x + 2 * x) * (1 - mask2)
    out3 = out2 * mask3 + 1 * (1 - mask3)
    return out_forward.detach() - out3.detach() + out3


def hard_binary_weight(w):
    """Bi-Real / ReActNet ``HardBinaryConv``: alpha sign(W), clipped STE."""
    scaling = mean_abs_per_out(w).detach()
    clipped = torch.clamp(w, -1.0, 1.0)
    return (scaling * torch.sign(w)).detach() - clipped.detach() + clipped


# --------------------------------------------------------------- references
# ref(x, P, p) -> output; P: the layer's parameters and buffers by name.


def ref_bnn(x, P, p):
    a = RefSign.apply(x, clip_ste)
    w = RefSign.apply(P['weight'], clip_ste)
    return conv(a, w, P['bias'])


def ref_xnor(x, P, p):
    """XNOR-Net's forward: BinActiveZ (no beta; gradient 0 where
    |x| >= 1) and alpha sign(W); without the code's gradient rescale (an
    option, next reference) the weight gradient is the clipped STE."""
    a = RefSign.apply(x, lambda v: (v.abs() < 1).to(v.dtype))
    w = P['weight']
    alpha = mean_abs_per_out(w).detach()
    clipped = torch.clamp(w, -1.0, 1.0)
    q = (alpha * torch.sign(w)).detach() + (clipped - clipped.detach())
    return conv(a, q, P['bias'])


def ref_xnor_training(x, P, p):
    """XNOR-Net's util.lua ``updateBinaryGradWeight``: the gradient of
    alpha sign(W) times m = (alpha 1[|W| < 1] + 1/n) (1 - 1/C_in) n."""
    a = RefSign.apply(x, lambda v: (v.abs() < 1).to(v.dtype))
    w = P['weight']
    n = w[0].numel()
    alpha = mean_abs_per_out(w).detach()

    def m(v):
        inside = ((v > -1) & (v < 1)).to(v.dtype)
        return (alpha * inside + 1 / n) * (1 - 1 / v.shape[1]) * n

    # the binary weight's gradient is dL/dQ; m multiplies it
    rescaled = RefSign.apply(w, m)
    q = (torch.sign(w) * alpha).detach() + (rescaled - rescaled.detach())
    return conv(a, q, P['bias'])


def ref_dorefa(x, P, p):
    """tensorpack DoReFa-Net, 1 bit: fa(nonlin(x)) = round(clip(x, 0, 1))
    with identity-gradient rounding; fw = E sign(W / E), sign(0) = 1,
    identity gradient, E = mean |W| over the tensor."""
    clipped = torch.clamp(x, 0.0, 1.0)
    a = clipped + (torch.round(clipped) - clipped).detach()
    w = P['weight']
    e = w.abs().mean().detach()
    signs = torch.where(w == 0, torch.ones_like(w), torch.sign(w / e))
    q = w + (signs * e - w).detach()
    return conv(a, q, P['bias'])


def ref_bireal(x, P, p):
    return conv(
        bireal_activation(x), hard_binary_weight(P['weight']), P['bias'])


def ref_bireal_paper(x, P, p):
    """The paper's (and larq's) magnitude-aware gradient: times alpha."""
    w = P['weight']
    alpha = mean_abs_per_out(w).detach()
    clipped = torch.clamp(w, -1.0, 1.0)
    q = (alpha * torch.sign(w)).detach() + alpha * (clipped - clipped.detach())
    return conv(bireal_activation(x), q, P['bias'])


def ref_xnorpp(x, P, p):
    a = RefSign.apply(x, clip_ste)
    w = RefSign.apply(P['weight'], clip_ste)
    gamma = P['output_scale.scale'].view(1, -1, 1, 1)
    return conv(a, w) * gamma + P['bias'].view(1, -1, 1, 1)


def ref_irnet(x, P, p, scale_grad=True):
    """IR-Net ``IRConv2d``: standardised weight, power-of-two scale sw
    multiplied after BinaryQuantize (EDE on both). ``scale_grad=False``:
    the option that keeps sw out of the weight gradient."""
    t, k = t_k(p)

    def ede(v):
        return k * t * (1 - torch.pow(torch.tanh(v * t), 2))

    w = P['weight']
    bw = w - w.view(w.size(0), -1).mean(-1).view(-1, 1, 1, 1)
    bw = bw / bw.view(bw.size(0), -1).std(-1).view(-1, 1, 1, 1)
    sw = torch.pow(
        torch.full((bw.size(0), ), 2.0, dtype=DT),
        (torch.log(bw.abs().view(bw.size(0), -1).mean(-1)) /
         math.log(2)).round()).view(-1, 1, 1, 1).detach()
    signs = RefSign.apply(bw, ede)
    if scale_grad:
        bw = signs * sw
    else:
        bw = (signs * sw).detach() + (signs - signs.detach())
    ba = RefSign.apply(x, ede)
    return conv(ba, bw, P['bias'])


def ref_irnet_no_scale_grad(x, P, p):
    return ref_irnet(x, P, p, scale_grad=False)


def rbnn_derivative(t, k):
    return lambda v: (k * (2 * math.sqrt(t**2 / 2) - torch.abs(t**2 * v))
                      ).clamp(min=0)


def rbnn_rotation(P):
    """RBNN: standardised weight w2, its rotation R1^T X R2 (not detached
    here) and the gate |sin(theta)|."""
    w = P['weight']
    w1 = w - w.view(w.size(0), -1).mean(-1).view(-1, 1, 1, 1)
    w2 = w1 / w1.view(w1.size(0), -1).std(-1).view(-1, 1, 1, 1)
    r1 = P['weight_quantizer.rotation_left']
    r2 = P['weight_quantizer.rotation_right']
    big_x = w2.view(w.shape[0], r1.shape[0], r2.shape[0])
    rweight = (r1.t() @ big_x @ r2).view_as(w)
    rotate = P['weight_quantizer.theta'].view(-1, 1, 1, 1)
    return w2, rweight, torch.abs(torch.sin(rotate))


def ref_rbnn(x, P, p):
    """RBNN ``BinarizeConv2d`` (bias-free, as its ResNets)."""
    t, k = t_k(p)
    w2, rweight, gate = rbnn_rotation(P)
    a1 = x - x.view(x.size(0), -1).mean(-1).view(-1, 1, 1, 1)
    a2 = a1 / a1.view(a1.size(0), -1).std(-1).view(-1, 1, 1, 1)
    delta = rweight.detach() - w2
    w3 = w2 + gate * delta
    bw = RefSign.apply(w3, rbnn_derivative(t, k))
    ba = RefSign.apply(a2, rbnn_derivative(max(t, 1.0), 1.0))
    alpha = P['output_scale.scale'].view(-1, 1, 1)
    return conv(ba, bw) * alpha


def ref_rbnn_paper(x, P, p):
    """RBNN's paper: plain sign, the same t, k on both, and the gradient
    through the rotated weight."""
    t, k = t_k(p)
    w2, rweight, gate = rbnn_rotation(P)
    w3 = w2 + gate * (rweight - w2)
    bw = RefSign.apply(w3, rbnn_derivative(t, k))
    ba = RefSign.apply(x, rbnn_derivative(t, k))
    return conv(ba, bw) * P['output_scale.scale'].view(-1, 1, 1)


def recu_tau(p):
    """ReCU ``cpt_tau``: A e^p + B, tau 0.85 -> 0.99."""
    a = (0.99 - 0.85) / (math.e - 1)
    return a * math.exp(p) + 0.85 - a


def ref_recu(x, P, p, gain_divisor=2 * math.sqrt(2)):
    """ReCU ``BinarizeConv2d`` in training (bias-free)."""
    w = P['weight']
    w0 = w - w.mean([1, 2, 3], keepdim=True)
    w1 = w0 / (
        torch.sqrt(w0.var([1, 2, 3], keepdim=True) + 1e-5) / gain_divisor)
    ew = torch.mean(torch.abs(w1))
    q_tau = (-ew * math.log(2 - 2 * recu_tau(p))).detach().item()
    w2 = torch.clamp(w1, -q_tau, q_tau)
    a0 = x / torch.sqrt(x.var([1, 2, 3], keepdim=True) + 1e-5)
    bw = RefSign.apply(w2, torch.ones_like)
    ba = RefSign.apply(a0, lambda v: (2 - torch.abs(2 * v)).clamp(min=0))
    return conv(ba, bw) * P['output_scale.scale'].view(-1, 1, 1)


def ref_recu_paper(x, P, p):
    return ref_recu(x, P, p, gain_divisor=1.0)


def ref_reactnet(x, P, p):
    """ReActNet: LearnableBias (RSign's shift), BinaryActivation,
    HardBinaryConv."""
    shifted = x - P['input_quantizer.bias'].view(1, -1, 1, 1)
    return conv(
        bireal_activation(shifted), hard_binary_weight(P['weight']), P['bias'])


def fda_derivative(n, omega=0.1):

    def d(v):
        g = 4 * omega / math.pi * sum(
            torch.cos((2 * i + 1) * omega * v) for i in range(n + 1))
        return torch.where((v > 1) | (v < -1), torch.zeros_like(g), g)

    return d


def ref_fda(x, P, p, noise=True):
    """The FDA re-implementation's ``FDAConv2d`` with its noise adaptation
    (``NoiseAdaption`` on the weight rows, ``NoiseAdaption_a`` on the
    channel vectors); n = 9 + int(9 p), alpha = 0.05 (1 + cos(pi p))."""
    n = 9 + int(p * 9)
    alpha = 0.05 * (1 + math.cos(math.pi * p))
    w, a = P['weight'], x
    bw = RefSign.apply(w, fda_derivative(n))
    ba = RefSign.apply(a, fda_derivative(n))
    if noise:
        shape = w.shape
        h = F.relu(
            w.view(shape[0], -1) @ P['weight_quantizer.noise.fc1.weight'].t())
        ew = (h @ P['weight_quantizer.noise.fc2.weight'].t()).reshape(shape)
        ew = ew + 0.1 * torch.sin(w)
        bw = bw + alpha * ew
        s = a.shape
        v = a.view(s[0], s[1], -1).permute(0, 2, 1)
        v = F.relu(v @ P['input_quantizer.noise.fc1.weight'].t())
        v = v @ P['input_quantizer.noise.fc2.weight'].t()
        ea = v.permute(0, 2, 1).reshape(s) + 0.1 * torch.sin(a)
        ba = ba + alpha * ea
    scaling = mean_abs_per_out(w).detach()
    return conv(ba, bw * scaling, P['bias'])


def ref_fda_no_noise(x, P, p):
    return ref_fda(x, P, p, noise=False)


# (id, binarizer config, reference, layer has a bias)
CASES = [
    ('bnn', 'bnn', ref_bnn, True),
    ('xnor', 'xnor', ref_xnor, True),
    ('xnor-training',
     dict(type='xnor', latent_center=True, latent_clip=1.0,
          grad_rescale=True), ref_xnor_training, True),
    # tensorpack maps sign(0) to +1 itself: our default convention
    ('dorefa', dict(type='dorefa', sign_zero=1.0), ref_dorefa, True),
    ('bireal', 'bireal', ref_bireal, True),
    ('bireal-paper', dict(type='bireal',
                          weight_grad='magnitude'), ref_bireal_paper, True),
    ('xnorpp', 'xnorpp', ref_xnorpp, True),
    ('irnet', 'irnet', ref_irnet, True),
    ('irnet-no-scale-grad', dict(type='irnet', scale_grad=False),
     ref_irnet_no_scale_grad, True),
    ('rbnn', 'rbnn', ref_rbnn, False),
    ('rbnn-paper', dict(type='rbnn', form='paper'), ref_rbnn_paper, False),
    ('reactnet', 'reactnet', ref_reactnet, True),
    ('recu', 'recu', ref_recu, False),
    ('recu-paper', dict(type='recu', gain=1.0), ref_recu_paper, False),
    ('fda', 'fda', ref_fda, True),
    ('fda-no-noise', dict(type='fda',
                          noise_adapt=False), ref_fda_no_noise, True),
]


def originals_conventions(binarizer):
    cfg = dict(type=binarizer) if isinstance(binarizer, str) else \
        dict(binarizer)
    return dict(dict(sign_zero=0.0), **cfg)


def build_layer(binarizer, bias, seed=0):
    torch.manual_seed(seed)
    layer = BinaryConv2d(
        C_IN,
        C_OUT,
        3,
        padding=1,
        bias=bias,
        binarizer=originals_conventions(binarizer),
        pad_value=0.0,
        dtype=DT)
    with torch.no_grad():
        layer.weight.normal_(0, 0.7)  # some |W| > 1: clip windows matter
        # sparse channels: their standardised mean |W| is below 2 ** -0.5,
        # so IR-Net's power-of-two scale is not 1 there
        gen = torch.Generator().manual_seed(seed)
        keep = torch.rand(3, C_IN, 3, 3, generator=gen) < 0.2
        layer.weight[:3] *= keep.to(DT)
        if bias:
            layer.bias.normal_()
        layer(torch.zeros(1, C_IN, 3, 3, dtype=DT))  # lazy initialisations
        # learnable quantizer parameters away from their init values
        for name, param in layer.named_parameters():
            if name == 'weight_quantizer.theta':
                param.uniform_(-3.0, 3.0)
            elif name.endswith('scale') or name == 'input_quantizer.bias':
                param.uniform_(-0.5, 1.5)
    layer.zero_grad()
    return layer


def set_progress(layer, p):
    for module in layer.modules():
        if hasattr(module, 'set_progress'):
            module.set_progress(p)


def run_both(binarizer, reference, bias, p):
    layer = build_layer(binarizer, bias).train()
    set_progress(layer, p)
    gen = torch.Generator().manual_seed(int(p * 10) + 7)
    x = 1.5 * torch.randn(2, C_IN, 6, 6, generator=gen, dtype=DT) + 0.3
    g = torch.randn(2, C_OUT, 6, 6, generator=gen, dtype=DT)

    xl = x.clone().requires_grad_()
    out = layer(xl)
    out.backward(g)

    params = {
        name: t.detach().clone().requires_grad_()
        for name, t in layer.named_parameters()
    }
    buffers = {name: t.clone() for name, t in layer.named_buffers()}
    xr = x.clone().requires_grad_()
    ref = reference(xr, dict(buffers, **params), p)
    ref.backward(g)
    return layer, out, xl, ref, xr, params


@pytest.mark.parametrize('p', PROGRESS)
@pytest.mark.parametrize(
    'binarizer,reference,bias', [c[1:] for c in CASES],
    ids=[c[0] for c in CASES])
def test_forward_and_gradients_equal_the_released_code(binarizer, reference,
                                                       bias, p):
    layer, out, xl, ref, xr, params = run_both(binarizer, reference, bias, p)
    assert out.shape == ref.shape
    assert (out - ref).abs().max().item() <= TOL
    assert (xl.grad - xr.grad).abs().max().item() <= TOL
    assert xl.grad.abs().sum() > 0
    for name, param in layer.named_parameters():
        ref_grad = params[name].grad
        assert ref_grad is not None, f'the reference does not use {name}'
        assert param.grad is not None, name
        diff = (param.grad - ref_grad).abs().max().item()
        assert diff <= TOL, (name, diff)


def test_references_are_not_trivially_equal():
    """The cases differ from each other where the issue says the code and
    the paper differ, so the tests above can tell them apart."""
    pairs = [('irnet', 'irnet-no-scale-grad'), ('rbnn', 'rbnn-paper'),
             ('recu', 'recu-paper'), ('bireal', 'bireal-paper'),
             ('fda', 'fda-no-noise'), ('xnor', 'xnor-training')]
    by_id = {c[0]: c for c in CASES}
    for code, paper in pairs:
        _, _, code_ref, bias = by_id[code]
        _, _, paper_ref, _ = by_id[paper]
        layer = build_layer(by_id[code][1], bias)
        params = {
            name: t.detach().clone().requires_grad_()
            for name, t in layer.named_parameters()
        }
        buffers = {name: t.clone() for name, t in layer.named_buffers()}
        x = 1.5 * torch.randn(2, C_IN, 6, 6, dtype=DT) + 0.3
        outs, grads = [], []
        for fn in (code_ref, paper_ref):
            for t in params.values():
                t.grad = None
            out = fn(x, dict(buffers, **params), 0.5)
            out.pow(2).sum().backward()
            outs.append(out.detach())
            grads.append(params['weight'].grad.clone())
        differs = not torch.allclose(outs[0], outs[1]) or \
            not torch.allclose(grads[0], grads[1])
        assert differs, (code, paper)
