"""A regression distillation term for depth: the BNN's depth map follows the
FP teacher's (the depth counterpart of the per-pixel KL)."""
import torch
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .distill_target import distill_target

DEPTH_DISTILL_MODES = ('log_l1', 'l1', 'l2')


@MODELS.register_module()
class DepthDistillLoss(nn.Module):
    """Per-pixel distance between the student's and the teacher's depth.

    ``log_l1``: ``mean |log d_S - log d_T|`` (scale-free, like the SiLog
    task loss); ``l1``: ``mean |d_S - d_T|`` (metres); ``l2``:
    ``mean (d_S - d_T)^2``. The teacher's map is detached and resized
    (bilinear) to the student's when they differ.

    The inputs are the raw outputs ``x`` of the depth heads' final conv
    (``conv_depth``), mapped to depth as the heads do,
    ``d = min_depth + (max_depth - min_depth) * sigmoid(x)``, when
    ``from_logits`` (the default); the CMIM wrapper fills ``min_depth`` and
    ``max_depth`` from the student's head unless given.

    Args:
        mode (str): One of ``'log_l1'``, ``'l1'``, ``'l2'``. Defaults to
            ``'log_l1'``.
        from_logits (bool): Inputs are ``conv_depth`` outputs. Defaults to
            True.
        min_depth (float): Lower bound of the heads. Defaults to 1e-3.
        max_depth (float): Upper bound of the heads. Defaults to 10.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Logged name. Defaults to ``'loss_distill_depth'``.
    """

    def __init__(self,
                 mode: str = 'log_l1',
                 from_logits: bool = True,
                 min_depth: float = 1e-3,
                 max_depth: float = 10.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_distill_depth') -> None:
        super().__init__()
        if mode not in DEPTH_DISTILL_MODES:
            raise ValueError(f'DepthDistillLoss: mode must be one of '
                             f'{DEPTH_DISTILL_MODES}, got {mode!r}')
        if not 0 < min_depth < max_depth:
            raise ValueError(f'DepthDistillLoss: need 0 < min_depth < '
                             f'max_depth, got {min_depth}, {max_depth}')
        self.mode, self.from_logits = mode, from_logits
        self.min_depth, self.max_depth = float(min_depth), float(max_depth)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def to_depth(self, x: Tensor) -> Tensor:
        """Depth in metres from the inputs (see ``from_logits``)."""
        if not self.from_logits:
            return x
        return self.min_depth + (self.max_depth -
                                 self.min_depth) * torch.sigmoid(x)

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """The loss.

        Args:
            student (Tensor): ``(N, 1, H, W)`` of the BNN.
            teacher (Tensor): ``(N, 1, H', W')`` of the FP teacher.

        Returns:
            Tensor: The weighted loss.
        """
        teacher = distill_target(student, teacher, 'DepthDistillLoss')
        d_s, d_t = self.to_depth(student.float()), self.to_depth(teacher)
        if self.mode == 'log_l1':
            diff = (d_s.clamp_min(1e-6).log() -
                    d_t.clamp_min(1e-6).log()).abs()
        elif self.mode == 'l1':
            diff = (d_s - d_t).abs()
        else:
            diff = (d_s - d_t).square()
        return self.loss_weight * diff.mean()
