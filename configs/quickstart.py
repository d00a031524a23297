# Quickstart: a binary (IR-Net) ResNet-18 multi-task model (segmentation +
# depth) trained with CMIM on the synthetic NYUD-v2 twin, on CPU, in minutes.
#   python tools/train.py configs/quickstart.py
#   python tools/test.py configs/quickstart.py \
#       work_dirs/quickstart/iter_300.pth --show-dir vis
# The twin (96 frames, 120x160, official HDF5 layout) is generated into
# data/nyudv2_synthetic/ on first use and read by the real .mat loader.
_base_ = ['./_base_/default_runtime.py']

data_root = 'data/nyudv2_synthetic'
synthetic = dict(num_frames=96, height=120, width=160, seed=0)
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'sample_idx')
train_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(type='LoadNYUDv2Annotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
test_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(type='LoadNYUDv2Annotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
dataset = dict(
    type='NYUDv2MatDataset',
    data_root=data_root,
    tasks=('seg', 'depth'),
    synthetic=synthetic)
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(**dataset, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**dataset, split='test', pipeline=test_pipeline))
test_dataloader = val_dataloader
# the multi-task convention: mIoU, and depth errors over all valid pixels
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='DepthEvalMetric', eigen_crop=False, aggregation='pixel'),
]
test_evaluator = val_evaluator

norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='CMIM',
    layers='last_per_stage',
    embed_dim=32,
    loss_weight=0.5,
    architecture=dict(
        type='MultiTaskEncoderDecoder',
        data_preprocessor=dict(
            type='MultiTaskDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255),
        backbone=dict(
            type='IRNetResNet',
            depth=18,
            binarizer='irnet',
            stem_channels=16,
            base_channels=16,
            strides=(1, 2, 1, 1),
            dilations=(1, 1, 2, 4),
            norm_cfg=norm_cfg),
        heads=dict(
            seg=dict(
                type='FCNHead',
                in_channels=128,
                in_index=3,
                channels=64,
                num_convs=1,
                concat_input=False,
                dropout_ratio=0.0,
                num_classes=40,
                norm_cfg=norm_cfg,
                align_corners=False,
                loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
            depth=dict(
                type='FCNDepthHead',
                in_channels=128,
                in_index=3,
                channels=64,
                num_convs=1,
                norm_cfg=norm_cfg,
                max_depth=10.0,
                loss_decode=dict(type='DepthSiLogLoss', variant='bts'))),
        test_cfg=dict(mode='whole')))

max_iters = 300
# skips (and logs) a step whose loss or gradient is not finite
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper',
    optimizer=dict(type='Adam', lr=2e-3),
    policy='skip')
param_scheduler = [
    dict(type='PolyLR', power=0.9, begin=0, end=max_iters, by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=25, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=max_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # panels (input, GT / predicted segmentation and depth) of the test set
    visualization=dict(type='MultiTaskVisualizationHook', draw=True,
                       interval=10))
env_cfg = dict(dist_cfg=dict(backend='gloo'))  # CPU-friendly
randomness = dict(seed=0)
work_dir = './work_dirs/quickstart'
