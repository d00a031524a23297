# One binary backbone at output stride 8, two DeepLabV3 heads: NYUD-v2
# 40-class segmentation (the heads of deeplabv3_os8.py) and depth (those of
# deeplabv3_depth_os8.py), loss weights 1 / 1; loss items are prefixed
# 'seg.' / 'depth.'. The backbone and its channels come from one of
# ``_base_/models/backbones/*.py``, inserted by the leaf config.
norm_cfg = dict(type='BN', requires_grad=True)  # BN, not SyncBN: CPU-safe
# pads the depth map with 0 = invalid, the labels with 255 = ignore
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    depth_pad_val=0,
    size_divisor=32)
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor=data_preprocessor,
    heads=dict(
        seg=dict(
            type='ASPPHead',
            in_index=3,
            channels=128,
            dilations=(1, 12, 24, 36),
            dropout_ratio=0.1,
            num_classes=40,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
        depth=dict(
            type='ASPPDepthHead',
            in_index=3,
            channels=128,
            dilations=(1, 12, 24, 36),
            dropout_ratio=0.1,
            max_depth=10.0,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='DepthSiLogLoss', loss_weight=1.0))),
    # training only, on stage 3, as in the single-task models
    auxiliary_heads=dict(
        seg=dict(
            type='FCNHead',
            in_index=2,
            channels=64,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=40,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(
                type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)),
        depth=dict(
            type='FCNDepthHead',
            in_index=2,
            channels=64,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            max_depth=10.0,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='DepthSiLogLoss', loss_weight=0.4))),
    loss_weights=dict(seg=1.0, depth=1.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
