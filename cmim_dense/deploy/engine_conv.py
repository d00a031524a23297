"""A binary conv running on the 1-bit engine (:mod:`cmim_dense.ops`)."""
import math
from typing import Optional, Tuple

import torch
from torch import Tensor, nn

from cmim_dense.models.layers import BinaryConv2d
from cmim_dense.models.layers.rprelu import RPReLU
from cmim_dense.models.quantizers.activation_quantizers import (FourierSign,
                                                                RBNNSign,
                                                                ReCUSign,
                                                                RSign,
                                                                SignQuantizer)
from cmim_dense.models.quantizers.noise_adaptation import NoiseAdaptation
from cmim_dense.models.quantizers.output_scales import (ChannelScale,
                                                        GammaScale, XNORScale)
from cmim_dense.models.utils.binary_packing import _split_weight
from cmim_dense.ops.bitconv import bitconv2d, pack_weight, tap_sums

ActSpec = Optional[Tuple]


class UnsupportedLayerError(ValueError):
    """A layer the engine cannot run exactly (its name and why)."""


def sign_threshold(name: str, quantizer: Optional[nn.Module]) -> \
        Tuple[Optional[Tensor], bool]:
    """How an activation quantizer's eval forward reads as ``sign(x - t)``.

    Args:
        name (str): The layer's name, for the error message.
        quantizer (nn.Module, optional): Its ``input_quantizer``.

    Returns:
        tuple: ``(t, center)``: RSign's per-channel shift (``C_in``) or None
        for ``t = 0``, and whether each sample is centred first (RBNN's
        standardized activations: ``sign((x - mean) / std) = sign(x -
        mean)``, mean over C, H, W).

    Raises:
        UnsupportedLayerError: No quantizer (FP activations), ``sign(0)`` other
            than +1, or a quantizer whose eval forward is not of that form
            (e.g. DoReFa's ``{0, 1}`` activations).
    """
    if quantizer is None:
        raise UnsupportedLayerError(
            f'{name}: activations are not binarized (no input_quantizer); '
            'the 1-bit engine needs +-1 inputs')
    cls = type(quantizer)
    known = isinstance(quantizer, SignQuantizer) and (
        cls.forward in (SignQuantizer.forward, RSign.forward, ReCUSign.forward,
                        RBNNSign.forward)
        or cls.forward is FourierSign.forward and
        (quantizer.noise is None or type(quantizer.noise) is NoiseAdaptation))
    if not known:
        raise UnsupportedLayerError(
            f'{name}: activation quantizer {cls.__name__} is not of the form '
            'sign(x - t) in eval mode, so its outputs are not +-1 and the '
            'XNOR-popcount engine cannot run it; keep this model in PyTorch')
    zero = float(getattr(quantizer, 'sign_zero', 1.0))
    if zero != 1.0:
        raise UnsupportedLayerError(
            f'{name}: {cls.__name__} has sign_zero={zero}; the engine maps '
            'an exact 0 to +1 (sign_zero=1) only')
    if cls.forward is RSign.forward:
        if getattr(quantizer, 'channel_dim', 1) != 1:
            raise UnsupportedLayerError(
                f'{name}: RSign with channel_dim={quantizer.channel_dim}')
        return quantizer.bias.detach(), False
    if cls.forward is RBNNSign.forward and quantizer.standardize:
        return None, True
    # ReCU divides by std(x) only in training, FDA's noise is 0 in eval
    return None, False


def act_spec(act: Optional[nn.Module],
             channels: Optional[slice] = None) -> Tuple[bool, ActSpec]:
    """The engine's epilogue form of an activation, if it has one.

    Args:
        act (nn.Module, optional): ``Identity``, ``Hardtanh`` (and
            ``ReLU6``), ``ReLU``, ``PReLU`` or ``RPReLU``; None is identity.
        channels (slice, optional): Channels of a per-channel activation
            this conv's outputs are (for a conv writing part of a concat).

    Returns:
        tuple: ``(fusable, spec)``; spec None means identity.
    """
    if act is None or isinstance(act, nn.Identity):
        return True, None
    if isinstance(act, nn.Hardtanh):
        return True, ('clamp', float(act.min_val), float(act.max_val))
    if isinstance(act, nn.ReLU):
        return True, ('clamp', 0.0, math.inf)

    def part(t: Tensor) -> Tensor:
        t = t.detach().float().reshape(-1)
        return t if channels is None else t[channels]

    if type(act) is RPReLU:
        return True, ('rprelu', part(act.shift_in), part(act.slope),
                      part(act.shift_out))
    if type(act) is nn.PReLU:
        slope = act.weight.detach().float().reshape(-1)
        size = (channels.stop - channels.start) if channels is not None \
            else None
        if slope.numel() == 1:
            if size is None:
                return False, None  # channel count unknown here
            slope = slope.expand(size).clone()
        else:
            slope = part(act.weight)
        zeros = torch.zeros_like(slope)
        return True, ('rprelu', zeros, slope, zeros.clone())
    return False, None


class EngineConv2d(nn.Module):
    """A :class:`BinaryConv2d` (eval mode) on the XNOR-popcount engine.

    ``y = act(bn(s(x) * conv(pad(sign(x - t)), b) + bias) + residual)``
    where ``b`` is the packed ``{-1, +1}`` weight, its per-output-channel
    scale, a per-channel output scale (``ChannelScale``, ``GammaScale``
    without spatial factors) and an eval-mode BN fold into the engine's
    ``alpha, beta``; XNOR-Net's per-sample ``beta`` becomes the engine's
    per-sample factor; the residual add and a Hardtanh / ReLU / PReLU /
    RPReLU run in the engine's output step. Other output scales (XNOR's
    spatial map, XNOR++'s spatial Gamma) run in PyTorch on the engine's
    output, followed by bias, BN, residual and activation in PyTorch.

    Build with :meth:`from_binary_conv`; the fuse methods take a following
    BN and activation.
    """

    def __init__(self, weight_shape: Tuple[int, int, int,
                                           int], stride: Tuple[int, int],
                 padding: Tuple[int, int, int, int], dilation: Tuple[int, int],
                 groups: int, pad_value: float) -> None:
        super().__init__()
        self.weight_shape = tuple(int(s) for s in weight_shape)
        self.stride, self.dilation = tuple(stride), tuple(dilation)
        self.padding = tuple(int(p) for p in padding)  # l, r, t, b
        self.groups, self.pad_value = int(groups), float(pad_value)
        out_channels = self.weight_shape[0]
        self.register_buffer('packed', torch.zeros(0, dtype=torch.int64))
        self.register_buffer('alpha', torch.ones(out_channels))
        self.register_buffer('beta', torch.zeros(out_channels))
        self.threshold: Optional[Tensor]
        self.tapsum: Optional[Tensor]
        self.register_buffer('threshold', None)
        self.register_buffer('tapsum', None)
        self.sample_scale = False
        self.center_samples = False
        self.post_scale: Optional[nn.Module] = None
        self.bn: Optional[nn.Module] = None
        self.act: Optional[nn.Module] = None
        self.act_spec: ActSpec = None

    @classmethod
    @torch.no_grad()
    def from_binary_conv(cls,
                         conv: BinaryConv2d,
                         name: str = 'conv') -> 'EngineConv2d':
        """Pack a trained binary conv.

        Args:
            conv (BinaryConv2d): A binary conv (input and weight binarized,
                or a frozen weight).
            name (str): Its name in the model, for error messages.

        Raises:
            UnsupportedLayerError: The layer is not sign-based binary, or
                pads other than with zeros.
        """
        threshold, center = sign_threshold(name, conv.input_quantizer)
        if conv.weight_quantizer is None and not conv.is_weight_frozen:
            raise UnsupportedLayerError(
                f'{name}: the weights are not binarized (no weight '
                'quantizer)')
        if conv.padding_mode != 'zeros':
            raise UnsupportedLayerError(
                f'{name}: padding_mode={conv.padding_mode!r}; the engine '
                "supports 'zeros' (with the layer's pad_value)")
        quantizer = conv.weight_quantizer
        mode = quantizer.training if quantizer is not None else False
        if quantizer is not None:
            quantizer.eval()
        try:
            signs, scale = _split_weight(name, conv.quantized_weight())
        finally:
            if quantizer is not None:
                quantizer.train(mode)
        pl, pr, pt, pb = conv._reversed_padding_repeated_twice
        pad_value = conv.pad_value if any((pl, pr, pt, pb)) else 1.0
        layer = cls(
            tuple(signs.shape), conv.stride, (pl, pr, pt, pb), conv.dilation,
            conv.groups, pad_value)
        layer.packed = pack_weight(signs, conv.groups)
        if pad_value == 0:
            layer.tapsum = tap_sums(signs)
        if threshold is not None:
            layer.threshold = threshold.float().cpu().clone()
        layer.center_samples = center
        alpha = scale.double().cpu()
        bias = conv.bias.detach().double().cpu() if conv.bias is not None \
            else torch.zeros_like(alpha)
        scale_mod = conv.output_scale
        post = None
        if scale_mod is None:
            pass
        elif type(scale_mod) is ChannelScale or (type(scale_mod) is GammaScale
                                                 and scale_mod.spatial_size
                                                 is None):
            alpha = alpha * scale_mod.scale.detach().double().cpu()
        elif type(scale_mod) is XNORScale and scale_mod.mode == 'sample':
            layer.sample_scale = True
        else:
            post = scale_mod  # runs in PyTorch on the engine's output
        layer.post_scale = post
        if post is None:
            layer.alpha, layer.beta = alpha.float(), bias.float()
        else:  # bias after the output scale, in PyTorch
            layer.alpha = alpha.float()
            layer.beta = torch.zeros_like(layer.alpha)
            layer.register_buffer('post_bias', bias.float())
        return layer

    @property
    def fused(self) -> bool:
        """Whether the whole layer runs in the engine's output step."""
        return self.post_scale is None

    @torch.no_grad()
    def fuse_bn(self, bn: Optional[nn.Module]) -> None:
        """Fold an eval-mode BN following the conv into ``alpha, beta``.

        BNs that cannot be folded (a PyTorch output scale before them, or no
        running statistics) run in PyTorch.

        Args:
            bn (nn.Module, optional): The BN (``_BatchNorm``) or None.
        """
        if bn is None or isinstance(bn, nn.Identity):
            return
        foldable = isinstance(bn, nn.modules.batchnorm._BatchNorm) and \
            bn.track_running_stats and bn.running_var is not None
        if not self.fused or not foldable:
            self.bn = bn
            return
        k = torch.rsqrt(bn.running_var.double() + bn.eps)
        shift = -bn.running_mean.double()
        if bn.affine:
            k = k * bn.weight.double()
        beta = (self.beta.double() + shift) * k
        if bn.affine:
            beta = beta + bn.bias.double()
        self.alpha = (self.alpha.double() * k.cpu()).float()
        self.beta = beta.float().cpu()

    def fuse_act(self,
                 act: Optional[nn.Module],
                 channels: Optional[slice] = None) -> None:
        """Run an activation (after the residual add) in the output step.

        Args:
            act (nn.Module, optional): The activation; one without an
                epilogue form runs in PyTorch.
            channels (slice, optional): See :func:`act_spec`.
        """
        fusable, spec = act_spec(act, channels)
        if fusable and self.fused and self.bn is None:
            self.act_spec = spec
        elif act is not None and not isinstance(act, nn.Identity):
            if channels is not None:
                raise UnsupportedLayerError(
                    f'{type(act).__name__} over a concatenation cannot run '
                    'per part')
            self.act = act

    def forward(self,
                x: Tensor,
                residual: Optional[Tensor] = None,
                out: Optional[Tensor] = None) -> Tensor:
        """``act(bn(conv(x)) + residual)`` (see the class docstring).

        Args:
            x (Tensor): Latent input.
            residual (Tensor, optional): Added before the activation.
            out (Tensor, optional): Channel-stride-1 view to write into.
        """
        geometry = dict(
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
            pad_value=self.pad_value,
            threshold=self.threshold,
            tapsum=self.tapsum)
        sample = x.detach().abs().flatten(1).mean(1) \
            if self.sample_scale else None
        latent = x
        if self.center_samples:  # sign((x - mean) / std) = sign(x - mean)
            x = x - x.mean((1, 2, 3), keepdim=True)
        in_engine = self.fused and self.bn is None  # BN, add, act fused
        y = bitconv2d(
            x,
            self.packed,
            self.weight_shape,
            alpha=self.alpha,
            beta=self.beta,
            sample_scale=sample,
            residual=residual if in_engine else None,
            act=self.act_spec if in_engine else None,
            out=out if in_engine and self.act is None else None,
            **geometry)
        if in_engine and self.act is None:
            return y
        if not in_engine:
            if self.post_scale is not None:
                y = self.post_scale(y, latent) + self.post_bias.view(
                    1, -1, 1, 1)
            if self.bn is not None:
                y = self.bn(y)
            if residual is not None:
                y = y + residual
        if self.act is not None:
            y = self.act(y)
        if out is not None:
            out.copy_(y)
            return out
        return y

    def extra_repr(self) -> str:
        return (f'weight_shape={self.weight_shape}, stride={self.stride}, '
                f'padding={self.padding}, dilation={self.dilation}, '
                f'groups={self.groups}, pad_value={self.pad_value}, '
                f'threshold={self.threshold is not None}, '
                f'act={None if self.act_spec is None else self.act_spec[0]}')
