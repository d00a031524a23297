# NYUD-v2, monocular-depth protocol: the data side of BTS (Lee et al. 2019;
# docs/nyudv2_protocols.md). The monocular-depth layout of BTS / mmseg's
# NYUDataset (data_root/images/{train,test}/*.jpg, annotations/{train,test}/
# *.png in millimetres): BTS's training frames from the raw sequences
# (about 24k) and the 654 official test frames. Training: BTS's NYU crop
# (rows 45:472, cols 43:608), a rotation of up to 2.5 degrees (depth with
# nearest interpolation, corners 0 = invalid), a 416x544 random crop,
# horizontal flip, photometric jitter. Test: the whole 480x640 frame, scored
# inside the Eigen crop, metrics per image then averaged.
_base_ = ['./nyudv2_loaders.py']
dataset_type = 'NYUDv2MonoDepthDataset'
data_root = 'data/nyu'
tasks = ('depth', )
crop_size = (416, 544)  # (h, w)
train_pipeline = [
    dict(type='LoadNYUDv2Image'),
    dict(type='LoadNYUDv2Annotations'),
    dict(type='RandomRotate', prob=1.0, degree=2.5, pad_val=0, seg_pad_val=0),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=1.0),
    dict(type='RandomFlip', prob=0.5),
    # BTS jitters gamma, brightness and colour; mmseg's distortion instead
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs', meta_keys={{_base_.meta_keys}}),
]
train_dataloader = dict(
    batch_size=4,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        tasks=tasks,
        crop_region='bts_train',
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, tasks=tasks))
test_dataloader = val_dataloader
# the monocular-depth convention: Eigen crop, valid 1e-3 < gt < 10 m,
# per-image metrics averaged over the test frames
depth_evaluator = dict(
    type='DepthEvalMetric', eval_region='eigen', aggregation='image')
val_evaluator = [depth_evaluator]
test_evaluator = val_evaluator
