"""Activation quantizers: latent FP activation in, ``{-1, +1}`` out.

In a binary layer the activation quantizer is the submodule
``input_quantizer``: a forward hook on it sees the latent FP activation as its
input and the binary activation as its output (what CMIM records). Every
quantizer here is ``sign`` in the forward pass; they differ by the surrogate
derivative of the backward pass (a submodule ``grad``) and, for RSign and
ReCU, by a transform applied before ``sign``.
"""
from typing import Optional

import torch
from torch import Tensor, nn

from cmim_dense.registry import QUANTIZERS
from .base import BaseQuantizer, binarize, channel_view


def build_surrogate(cfg: Optional[dict], default: str) -> nn.Module:
    """Build a surrogate-gradient module from a config or a default type."""
    cfg = dict(type=default) if cfg is None else dict(cfg)
    return QUANTIZERS.build(cfg)


@QUANTIZERS.register_module()
class SignQuantizer(BaseQuantizer):
    """``sign(x)`` with a configurable surrogate derivative.

    Forward: ``+1`` if ``x >= 0`` else ``-1`` (NaN propagates).
    Backward: ``dL/dx = dL/dy * grad(x)``.

    Args:
        grad (dict, optional): Config of the surrogate derivative, e.g.
            ``dict(type='EDEGrad', t_min=1e-3)``. Defaults to the class's
            ``default_grad`` (``ClipSTE`` here).
    """

    default_grad = 'ClipSTE'

    def __init__(self, grad: Optional[dict] = None) -> None:
        super().__init__()
        self.grad = build_surrogate(grad, self.default_grad)

    def forward(self, x: Tensor) -> Tensor:
        return binarize(x, self.grad)


@QUANTIZERS.register_module()
class SteSign(SignQuantizer):
    """BNN / XNOR-Net / DoReFa / XNOR++ activation: ``sign(x)``, clip STE.

    Backward: ``dL/dx = dL/dy * 1[|x| <= 1]``.
    """

    default_grad = 'ClipSTE'


@QUANTIZERS.register_module()
class ApproxSign(SignQuantizer):
    """Bi-Real activation: ``sign(x)`` with the ApproxSign derivative.

    Backward: ``dL/dx = dL/dy * max(0, 2 - 2|x|)``.
    """

    default_grad = 'ApproxSignGrad'


@QUANTIZERS.register_module()
class EDESign(SignQuantizer):
    """IR-Net activation: ``sign(x)`` with the Error Decay Estimator.

    Backward: ``dL/dx = dL/dy * k * t * (1 - tanh(t x) ** 2)``, ``t, k``
    scheduled (:class:`~.surrogate_grads.EDEGrad`).
    """

    default_grad = 'EDEGrad'


@QUANTIZERS.register_module()
class RBNNSign(SignQuantizer):
    """RBNN activation: ``sign(x)`` with RBNN's approximation.

    Backward: ``dL/dx = dL/dy * k * max(0, sqrt(2) t - t ** 2 |x|)``, ``t, k``
    scheduled as in IR-Net (:class:`~.surrogate_grads.RBNNGrad`).
    """

    default_grad = 'RBNNGrad'


@QUANTIZERS.register_module()
class FourierSign(SignQuantizer):
    """FDA activation: ``sign(x)`` with the Fourier-series derivative.

    Backward: ``dL/dx = dL/dy * (4 w / pi) sum_{i<=n} cos((2i+1) w x)`` on
    ``|x| <= 1`` (:class:`~.surrogate_grads.FourierGrad`).
    """

    default_grad = 'FourierGrad'


@QUANTIZERS.register_module()
class RSign(SignQuantizer):
    """ReActNet's RSign: ``sign(x - beta_c)``, a learnable shift per channel.

    Backward: ApproxSign derivative at ``x - beta_c``; ``beta_c`` receives
    ``-sum`` of that gradient over its channel.

    Args:
        in_channels (int): Number of channels (filled in by the layer).
        channel_dim (int): Channel axis of the input (1 for conv inputs,
            -1 for linear inputs; filled in by the layer). Defaults to 1.
        grad (dict, optional): Surrogate derivative. Defaults to
            ``ApproxSignGrad``.
    """

    default_grad = 'ApproxSignGrad'

    def __init__(self,
                 in_channels: int,
                 channel_dim: int = 1,
                 grad: Optional[dict] = None) -> None:
        super().__init__(grad)
        if in_channels <= 0:
            raise ValueError(f'in_channels must be positive, got '
                             f'{in_channels}')
        self.channel_dim = channel_dim
        self.bias = nn.Parameter(torch.zeros(in_channels))

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[self.channel_dim] != self.bias.numel():
            raise ValueError(
                f'RSign expects {self.bias.numel()} channels on dim '
                f'{self.channel_dim}, got input of shape {tuple(x.shape)}')
        shift = channel_view(self.bias, x.dim(), self.channel_dim)
        return binarize(x - shift.to(x.dtype), self.grad)


@QUANTIZERS.register_module()
class ReCUSign(SignQuantizer):
    """ReCU activation: ``sign(x / std(x))`` in training.

    In training, ``x`` is divided by ``sqrt(var(x) + eps)`` over all
    non-batch dims of each sample (gradient flows through it), which leaves
    the sign unchanged but moves the surrogate window.
    Backward: ``dL/dx_n = dL/dy * max(0, 2 - 2 |x_n|)`` at the normalised
    ``x_n``.

    Args:
        eps (float): Added to the variance. Defaults to 1e-5.
        grad (dict, optional): Surrogate derivative. Defaults to
            ``ApproxSignGrad``.
    """

    default_grad = 'ApproxSignGrad'

    def __init__(self, eps: float = 1e-5, grad: Optional[dict] = None) -> None:
        super().__init__(grad)
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        if self.training:
            dims = tuple(range(1, x.dim()))
            x = x / torch.sqrt(x.var(dims, keepdim=True) + self.eps)
        return binarize(x, self.grad)
