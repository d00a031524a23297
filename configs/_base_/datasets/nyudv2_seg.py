# NYUD-v2, segmentation protocol (ours, mmseg conventions; no toolbox ships
# a NYUD-v2 segmentation config): the labeled set (data_root holds
# nyu_depth_v2_labeled.mat and splits.mat), 795 train / 654 test frames at
# 480x640, 40 classes; mmseg's augmentation (random rescale 0.5-2.0, random
# 480x640 crop with cat_max_ratio=0.75, flip, photometric distortion); mIoU
# over the whole 480x640 test frames (eval_region='nyud_mt' or 'eigen'
# scores a window instead).
dataset_type = 'NYUDv2MatDataset'
data_root = 'data/nyudv2'
tasks = ('seg', )
crop_size = (480, 640)  # (h, w)
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'pad_shape',
             'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label',
             'sample_idx', 'crop_region')  # sample_idx: CMIM's memory bank
train_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(type='LoadNYUDv2Annotations'),
    dict(
        type='RandomResize',
        scale=(640, 480),  # (w, h)
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
# the image is resized to 480x640 (a no-op on the real frames); the ground
# truth is loaded after the resize, so it is never resized nor cropped
test_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(type='Resize', scale=(640, 480), keep_ratio=True),
    dict(type='LoadNYUDv2Annotations'),
    dict(type='PackSegInputs', meta_keys=meta_keys),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        tasks=tasks,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        tasks=tasks,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
seg_evaluator = dict(
    type='RegionIoUMetric', iou_metrics=['mIoU'], eval_region='full')
val_evaluator = [seg_evaluator]
test_evaluator = val_evaluator
