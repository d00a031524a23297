"""What a task of the multi-task model reads and writes."""
from dataclasses import dataclass
from typing import Dict, Optional

TASK_KINDS = ('segmentation', 'regression')


@dataclass(frozen=True)
class TaskSpec:
    """Ground truth and prediction fields of one task.

    Args:
        kind (str): ``'segmentation'`` (the head outputs logits; the
            prediction is their argmax, or a thresholded sigmoid for one
            channel, and the logits are kept in ``logits_key``) or
            ``'regression'`` (the head output is the prediction itself,
            e.g. depth or surface normals).
        gt_key (str): Data-sample field of the ground truth, which every
            training sample must have.
        pred_key (str): Data-sample field the prediction is written to.
        logits_key (str, optional): Field of the logits (segmentation).
    """

    kind: str
    gt_key: str
    pred_key: str
    logits_key: Optional[str] = None

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f'task kind must be one of {TASK_KINDS}, got '
                             f'{self.kind!r}')


#: Tasks known without configuration.
DEFAULT_TASK_SPECS: Dict[str, TaskSpec] = {
    'seg':
    TaskSpec(
        kind='segmentation',
        gt_key='gt_sem_seg',
        pred_key='pred_sem_seg',
        logits_key='seg_logits'),
    'depth':
    TaskSpec(
        kind='regression', gt_key='gt_depth_map', pred_key='pred_depth_map'),
}
