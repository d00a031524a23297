"""The teacher's map as the target of a per-pixel distillation loss."""
from mmseg.models.utils import resize
from torch import Tensor


def distill_target(student: Tensor, teacher: Tensor, loss: str) -> Tensor:
    """The teacher's map, detached, in float32, at the student's size.

    Args:
        student (Tensor): ``(N, C, H, W)`` output of the BNN.
        teacher (Tensor): ``(N, C, H', W')`` output of the FP teacher;
            resized (bilinear) to ``(H, W)`` when it differs.
        loss (str): The loss's name, for the message.

    Returns:
        Tensor: ``(N, C, H, W)``.

    Raises:
        ValueError: If the maps are not 4-D or differ in ``N`` or ``C``.
    """
    if student.dim() != 4 or student.shape[:2] != teacher.shape[:2]:
        raise ValueError(
            f'{loss}: student {tuple(student.shape)} and teacher '
            f'{tuple(teacher.shape)} must be (N, C, H, W) maps with the same '
            'N and C')
    teacher = teacher.detach().float()
    if teacher.shape[2:] != student.shape[2:]:
        teacher = resize(
            teacher,
            size=student.shape[2:],
            mode='bilinear',
            align_corners=False)
    return teacher
