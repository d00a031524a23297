# What the GPU studies of the full NYUD-v2 configs share: 3 seeds, the
# candidates' order and the folder of their training configs. The leaf
# study configs (gpu_nyudv2_<task>.py) list the candidates of one task and
# that task's metrics.
seeds = [0, 1, 2]
seg_metrics = [
    dict(key='mIoU', direction='higher'),
    dict(key='aAcc', direction='higher'),
]
depth_metrics = [
    dict(key='rmse', direction='lower'),
    dict(key='abs_rel', direction='lower'),
    dict(key='d1', direction='higher'),
]
