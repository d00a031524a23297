# NYUD-v2 40-class semantic segmentation only (protocol of nyudv2.py).
_base_ = ['./nyudv2.py']
tasks = ('seg', )
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = [{{_base_.seg_evaluator}}]
test_evaluator = val_evaluator
