# What the GPU studies of the full NYUD-v2 configs share: 3 seeds and the
# candidates, in table order: (name, label, training config in
# configs/nyudv2/ without its '-<task>.py' end, baseline). The leaf study
# configs (gpu_nyudv2_<task>.py) pick the task and its metrics.
seeds = [0, 1, 2]
nyudv2_candidates = [
    ('fp', 'FP', 'deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640', None),
    ('irnet', 'IR-Net', 'deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640',
     None),
    ('irnet_cmim', 'IR-Net + CMIM',
     'deeplabv3_irnet-r18-d8_cmim_adam-40k_nyudv2-480x640', 'irnet'),
    ('bireal', 'Bi-Real', 'deeplabv3_bireal-r18-d8_adam-40k_nyudv2-480x640',
     None),
    ('bireal_cmim', 'Bi-Real + CMIM',
     'deeplabv3_bireal-r18-d8_cmim_adam-40k_nyudv2-480x640', 'bireal'),
    ('reactnet', 'ReActNet-A',
     'deeplabv3_reactnet-a-d8_adam-40k_nyudv2-480x640', None),
    ('reactnet_cmim', 'ReActNet-A + CMIM',
     'deeplabv3_reactnet-a-d8_cmim_adam-40k_nyudv2-480x640', 'reactnet'),
]
