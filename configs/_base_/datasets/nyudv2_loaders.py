# What the NYUD-v2 dataset bases share: the packed meta keys and the
# dataloaders (labeled set, 795 train / 654 test frames); each protocol's
# dataset base sets its tasks, pipelines, crop_region and evaluators.
meta_keys = ('img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
             'flip', 'flip_direction', 'reduce_zero_label', 'sample_idx',
             'crop_region')  # sample_idx: CMIM's memory bank
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
        test_mode=True))
test_dataloader = val_dataloader
