"""ReActNet's RPReLU activation."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import MMENGINE_MODELS
from ..quantizers.base import channel_view


@MMENGINE_MODELS.register_module()
class RPReLU(nn.Module):
    """Shifted PReLU with learnable per-channel shifts (ReActNet).

    ``f(x) = x - gamma_c + zeta_c`` if ``x > gamma_c`` else
    ``beta_c * (x - gamma_c) + zeta_c``.

    Args:
        channels (int): Number of channels (dim 1 of the input).
        init_slope (float): Initial ``beta_c``. Defaults to 0.25.
    """

    def __init__(self, channels: int, init_slope: float = 0.25) -> None:
        super().__init__()
        self.shift_in = nn.Parameter(torch.zeros(channels))  # gamma
        self.slope = nn.Parameter(torch.full((channels, ), init_slope))
        self.shift_out = nn.Parameter(torch.zeros(channels))  # zeta

    def forward(self, x: Tensor) -> Tensor:
        shift_in = channel_view(self.shift_in, x.dim())
        shift_out = channel_view(self.shift_out, x.dim())
        return F.prelu(x - shift_in, self.slope) + shift_out

    def extra_repr(self) -> str:
        return f'channels={self.slope.numel()}'
