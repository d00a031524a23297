# What the GPU studies of the full NYUD-v2 configs share: 3 seeds and the
# candidates, in table order: (name, label, model part of the leaf config's
# name in configs/nyudv2/, baseline). A leaf config is
# 'deeplabv3_<model part>_<recipe>.py' with the task's protocol recipe; the
# leaf study configs (gpu_nyudv2_<task>.py) pick a task's candidates and
# its metrics. Paths are relative to the leaf study config.
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
nyudv2_recipes = dict(
    seg='adam-40k_nyudv2-480x640-seg',
    depth='adamw-50e_nyudv2-bts-416x544-depth',
    multitask='adam-100e_nyudv2-mtl-480x640-multitask')
nyudv2_task_candidates = {
    task: [
        dict(
            name=name,
            label=label,
            config=f'../nyudv2/deeplabv3_{model}_{recipe}.py',
            baseline=baseline)
        for name, label, model, baseline in nyudv2_candidates
    ]
    for task, recipe in nyudv2_recipes.items()
}
