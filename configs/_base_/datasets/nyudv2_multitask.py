# NYUD-v2, multi-task protocol (segmentation + depth): the data side of
# MTL-PyTorch's 2-task NYUD baseline (docs/nyudv2_protocols.md). The labeled
# set (data_root holds nyu_depth_v2_labeled.mat; the split ships with the
# package), 795 train / 654 test frames, 40 classes, every frame cut at load
# time to the 425x560 NYUD_MT window that the multi-task anchors train and
# score on (the NYUD_MT folders, already 425x560, are kept whole), then resized
# to the 480x640 network input (MTL-PyTorch's FixedResize).
_base_ = ['./nyudv2_loaders.py']
tasks = ('seg', 'depth')
crop_region = 'nyud_mt'
window_size = (425, 560)  # (h, w) of the NYUD_MT window
input_scale = (640, 480)  # (w, h) of the network input
train_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(type='LoadNYUDv2Annotations'),  # the dataset's tasks
    dict(type='RandomFlip', prob=0.5),
    # zoom in by 1, 1.2 or 1.5 and divide depth by the zoom (ScaleNRotate
    # with rots=[0], scales=[1.0, 1.2, 1.5]); back to the window's size
    # (MTL-PyTorch keeps the centre, we crop at random)
    dict(
        type='DepthAwareRandomResize',
        ratio_choices=(1.0, 1.2, 1.5),
        keep_ratio=True,
        interpolation='bicubic'),
    dict(type='RandomCrop', crop_size=window_size, cat_max_ratio=1.0),
    dict(
        type='Resize',
        scale=input_scale,
        keep_ratio=False,
        interpolation='bicubic'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
# the image is resized to 480x640; the ground truth is loaded after the
# resize, so predictions are scored at the window's 425x560
test_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(
        type='Resize',
        scale=input_scale,
        keep_ratio=False,
        interpolation='bicubic'),
    dict(type='LoadNYUDv2Annotations'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    dataset=dict(
        tasks=tasks, crop_region=crop_region, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(tasks=tasks, crop_region=crop_region, pipeline=test_pipeline))
test_dataloader = val_dataloader
# mIoU and the depth errors over the same NYUD_MT window, depth aggregated
# over all valid test pixels at once (MTL-PyTorch's DepthMeter)
seg_evaluator = dict(
    type='RegionIoUMetric', iou_metrics=['mIoU'], eval_region=crop_region)
depth_evaluator = dict(
    type='DepthEvalMetric', eval_region=crop_region, aggregation='pixel')
val_evaluator = [seg_evaluator, depth_evaluator]
test_evaluator = val_evaluator
