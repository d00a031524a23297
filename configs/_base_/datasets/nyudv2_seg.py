# NYUD-v2, segmentation protocol (ours, mmseg conventions; no toolbox ships a
# NYUD-v2 segmentation config): the labeled set (data_root holds
# nyu_depth_v2_labeled.mat; the split ships with the package), 795 train / 654
# test frames at 480x640, 40 classes; mmseg's augmentation (random rescale
# 0.5-2.0, random 480x640 crop with cat_max_ratio=0.75, flip, photometric
# distortion); mIoU over the whole 480x640 test frames (eval_region='nyud_mt'
# or 'eigen' scores a window instead).
_base_ = ['./nyudv2_loaders.py']
tasks = ('seg', )
crop_size = (480, 640)  # (h, w)
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
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(dataset=dict(tasks=tasks, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
seg_evaluator = dict(
    type='RegionIoUMetric', iou_metrics=['mIoU'], eval_region='full')
val_evaluator = [seg_evaluator]
test_evaluator = val_evaluator
