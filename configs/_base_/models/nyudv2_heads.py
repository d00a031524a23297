# The pieces the NYUD-v2 model bases share: data preprocessor and the FP
# DeepLabV3 heads (ASPP decode heads on stage 4, FCN auxiliary heads on
# stage 3, training only). The model bases combine them; leaf configs fill
# in the heads' in_channels from the backbone base.
norm_cfg = dict(type='BN', requires_grad=True)  # BN, not SyncBN: CPU-safe
# pads the depth map (if any) with 0 = invalid, labels with 255 = ignore
# (mmseg's SegDataPreProcessor would pad depth with 255)
data_preprocessor = dict(
    type='MultiTaskDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    depth_pad_val=0,
    size_divisor=32)
seg_head = dict(
    type='ASPPHead',
    in_index=3,
    channels=128,
    dilations=(1, 12, 24, 36),
    dropout_ratio=0.1,
    num_classes=40,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
seg_aux_head = dict(
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
        type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4))
depth_head = dict(
    type='ASPPDepthHead',
    in_index=3,
    channels=128,
    dilations=(1, 12, 24, 36),
    dropout_ratio=0.1,
    max_depth=10.0,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(type='DepthSiLogLoss', loss_weight=1.0))
depth_aux_head = dict(
    type='FCNDepthHead',
    in_index=2,
    channels=64,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.1,
    max_depth=10.0,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(type='DepthSiLogLoss', loss_weight=0.4))
