"""Base class of blocks that can recompute their forward in the backward."""
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch import Tensor


class CheckpointBlock(BaseModule):
    """A block whose :meth:`_inner_forward` is checkpointed when ``with_cp``.

    Subclasses set ``self.with_cp`` and implement ``_inner_forward(x)``;
    activation memory is traded for recomputation in training
    (``torch.utils.checkpoint``, non-reentrant).
    """

    with_cp: bool = False

    def _inner_forward(self, x: Tensor) -> Tensor:
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """Forward, checkpointed when ``with_cp`` and a gradient is needed.

        Args:
            x (Tensor): Input, ``(N, in_channels, H, W)``.

        Returns:
            Tensor: ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.
        """
        if self.with_cp and x.requires_grad:
            return cp.checkpoint(self._inner_forward, x, use_reentrant=False)
        return self._inner_forward(x)
