# The metrics the studies report (keys of the validation scalars of
# IoUMetric and DepthEvalMetric) with their direction.
seg_metrics = [
    dict(key='mIoU', direction='higher'),
    dict(key='aAcc', direction='higher'),
]
depth_metrics = [
    dict(key='rmse', direction='lower'),
    dict(key='abs_rel', direction='lower'),
    dict(key='d1', direction='higher'),
]
multitask_metrics = seg_metrics + depth_metrics
