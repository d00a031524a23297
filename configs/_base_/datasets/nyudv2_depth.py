# NYUD-v2 depth only (protocol of nyudv2.py). RandomCrop's cat_max_ratio
# reads the segmentation map, which is not loaded here: plain random crop.
_base_ = ['./nyudv2.py']
tasks = ('depth', )
train_pipeline = [
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=1.0)
    if step['type'] == 'RandomCrop' else step
    for step in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [{{_base_.depth_evaluator}}]
test_evaluator = val_evaluator
