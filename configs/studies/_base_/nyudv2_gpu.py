# What the GPU studies of the full NYUD-v2 configs share: 3 seeds and the
# candidates, in table order: (name, label, model part of the leaf config's
# name in configs/nyudv2/, baseline). A leaf config is
# 'deeplabv3_<model part>_<recipe>.py'; the leaf study configs
# (gpu_nyudv2_<task>.py) pick the task's recipe and its metrics.
seeds = [0, 1, 2]
nyudv2_candidates = [
    ('fp', 'FP', 'fp-r18-d8', None),
    ('irnet', 'IR-Net', 'irnet-r18-d8', None),
    ('irnet_cmim', 'IR-Net + CMIM', 'irnet-r18-d8_cmim', 'irnet'),
    ('bireal', 'Bi-Real', 'bireal-r18-d8', None),
    ('bireal_cmim', 'Bi-Real + CMIM', 'bireal-r18-d8_cmim', 'bireal'),
    ('reactnet', 'ReActNet-A', 'reactnet-a-d8', None),
    ('reactnet_cmim', 'ReActNet-A + CMIM', 'reactnet-a-d8_cmim', 'reactnet'),
]
