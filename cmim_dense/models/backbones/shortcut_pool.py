"""Average pooling of the downsampling shortcuts (Bi-Real, ReActNet)."""
import math
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn


class ShortcutAvgPool(nn.Module):
    """``k x k`` average pooling that survives the stride -> dilation swap.

    Output position ``o`` (per spatial axis) averages the input at
    ``o * stride + a * dilation`` for ``a = 0 .. k - 1``, counting only the
    positions inside the input. The output size is ``ceil(size / stride)``,
    the size of a stride-``stride`` 3x3 conv with padding 1, for odd sizes
    too. With ``kernel_size == stride == 2`` and ``dilation=1`` this is
    ``nn.AvgPool2d(2, ceil_mode=True, count_include_pad=False)`` (equal to
    Bi-Real's ``nn.AvgPool2d(2)`` on even sizes).

    When a stage's stride is replaced by dilation (output stride 8/16), the
    pool keeps its window with stride 1 and the dilation of its input grid,
    as DeepLab does with the pooling layers it converts; the dilated network's
    shortcut, sampled every ``stride`` positions, then equals the strided
    one exactly (same terms, same summation order).

    Args:
        kernel_size (int): Window size per axis. Defaults to 2.
        stride (int): Stride. Defaults to 2.
        dilation (int): Spacing of the window's taps. Defaults to 1.
    """

    def __init__(self,
                 kernel_size: int = 2,
                 stride: int = 2,
                 dilation: int = 1) -> None:
        super().__init__()
        for name, value in (('kernel_size', kernel_size), ('stride', stride),
                            ('dilation', dilation)):
            if int(value) != value or value < 1:
                raise ValueError(f'ShortcutAvgPool: {name} must be a '
                                 f'positive int, got {value!r}')
        self.kernel_size = int(kernel_size)
        self.stride = int(stride)
        self.dilation = int(dilation)

    def forward(self, x: Tensor) -> Tensor:
        k, s, d = self.kernel_size, self.stride, self.dilation
        height, width = x.shape[-2:]
        out_h, out_w = math.ceil(height / s), math.ceil(width / s)
        pad_h = max((out_h - 1) * s + (k - 1) * d + 1 - height, 0)
        pad_w = max((out_w - 1) * s + (k - 1) * d + 1 - width, 0)
        x = F.pad(x, (0, pad_w, 0, pad_h))
        inside = F.pad(x.new_ones((1, 1, height, width)), (0, pad_w, 0, pad_h))
        total: Optional[Tensor] = None
        count: Optional[Tensor] = None
        for i in range(k):
            rows = slice(i * d, i * d + (out_h - 1) * s + 1, s)
            for j in range(k):
                cols = slice(j * d, j * d + (out_w - 1) * s + 1, s)
                if total is None:
                    total, count = x[..., rows, cols], inside[..., rows, cols]
                else:
                    total = total + x[..., rows, cols]
                    count = count + inside[..., rows, cols]
        return total / count

    def extra_repr(self) -> str:
        return (f'kernel_size={self.kernel_size}, stride={self.stride}, '
                f'dilation={self.dilation}')


def build_shortcut_pool(stride: int, dilation: int,
                        prev_dilation: int) -> Optional[ShortcutAvgPool]:
    """The pool of a stage's downsampling shortcut, if it needs one.

    Args:
        stride (int): The stage's stride.
        dilation (int): The stage's dilation.
        prev_dilation (int): Dilation of the stage's input grid (the
            previous stage's dilation; 1 for the first stage).

    Returns:
        ShortcutAvgPool | None: ``stride x stride`` pooling at that stride
        when ``stride > 1``; when the stride was replaced by dilation
        (``stride == 1`` and ``dilation > prev_dilation``), a stride-1 pool
        whose ``dilation // prev_dilation`` window taps are
        ``prev_dilation`` apart; otherwise None.
    """
    if stride > 1:
        return ShortcutAvgPool(stride, stride, 1)
    if dilation > prev_dilation:
        return ShortcutAvgPool(dilation // prev_dilation, 1, prev_dilation)
    return None
