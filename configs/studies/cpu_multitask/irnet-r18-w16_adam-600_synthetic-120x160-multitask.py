# The CPU-scale study's IR-Net row: the quickstart's multi-task model
# (IR-Net ResNet-18, 16 base channels, FCN seg + depth heads) without CMIM,
# on the quickstart's synthetic twin (96 frames at 120x160: 53 train, 43
# test), Adam + poly, 600 iterations of batch 8, validated every 100.
# Protocol: docs/study.md.
_base_ = ['../../quickstart.py']

max_iters = 600

# the quickstart's architecture, unwrapped from CMIM
model = dict(
    _delete_=True,
    type='MultiTaskEncoderDecoder',
    data_preprocessor={{_base_.model.architecture.data_preprocessor}},
    backbone={{_base_.model.architecture.backbone}},
    heads={{_base_.model.architecture.heads}},
    test_cfg={{_base_.model.architecture.test_cfg}})
# in-process loading: the study runs two trainings on two cores
train_dataloader = dict(num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
param_scheduler = [
    dict(type='PolyLR', power=0.9, begin=0, end=max_iters, by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=100, max_keep_ckpts=1),
    visualization=dict(draw=False))
work_dir = './work_dirs/studies/cpu_multitask/irnet'
