# What the NYUD-v2 dataset bases share: the packed meta keys and the
# dataloaders (labeled set, 795 train / 654 test frames); each protocol's
# dataset base sets its tasks, pipelines, crop_region and evaluators.
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
             'flip', 'flip_direction', 'reduce_zero_label', 'sample_idx',
             'crop_region')  # sample_idx: CMIM's memory bank
# the full-frame test pipeline: the image is resized to 480x640 (a no-op on
# the real frames); the ground truth is loaded after the resize, so it is
# never resized nor cropped
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
        type='NYUDv2MatDataset', data_root='data/nyudv2', split='train'))
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='NYUDv2MatDataset',
        data_root='data/nyudv2',
        split='test',
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
