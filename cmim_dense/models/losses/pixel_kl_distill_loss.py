"""ReActNet's distributional loss, per pixel: KL from the FP teacher's class
distribution to the BNN's (Liu et al., ECCV 2020, for classification)."""
import torch.nn.functional as F
from torch import Tensor, nn

from cmim_dense.registry import MODELS
from .distill_target import distill_target


@MODELS.register_module()
class PixelKLDistillLoss(nn.Module):
    """``T^2 * mean_pixels KL(softmax(t / T) || softmax(s / T))``.

    With ``T = 1`` its gradient is that of ReActNet's distributional loss
    (the cross-entropy of the student's log-softmax against the teacher's
    softmax), which differs from the KL by the teacher's entropy, a
    constant. The teacher's logits are detached and resized (bilinear) to
    the student's resolution when they differ.

    Args:
        temperature (float): ``T``. Defaults to 1.0 (ReActNet).
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Logged name (must contain ``'loss'`` to be summed).
            Defaults to ``'loss_distill_seg'``.
    """

    def __init__(self,
                 temperature: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_distill_seg') -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f'PixelKLDistillLoss: temperature must be '
                             f'positive, got {temperature}')
        self.temperature = temperature
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    @property
    def loss_name(self) -> str:
        return self._loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """The loss.

        Args:
            student (Tensor): ``(N, C, H, W)`` logits of the BNN.
            teacher (Tensor): ``(N, C, H', W')`` logits of the FP teacher.

        Returns:
            Tensor: The weighted loss.
        """
        teacher = distill_target(student, teacher, 'PixelKLDistillLoss')
        t = self.temperature
        log_p_t = F.log_softmax(teacher / t, dim=1)
        log_p_s = F.log_softmax(student.float() / t, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(1)
        return self.loss_weight * t * t * kl.mean()
