# DeepLabV3 (ASPP head) regressing NYUD-v2 depth on a binary backbone at
# output stride 8: the depth counterpart of deeplabv3_os8.py (same backbone
# slot, same head sizes, FP heads). Depth in metres, bounded to (0, 10) m by
# the heads, SiLog loss. The backbone and its channels come from one of
# ``_base_/models/backbones/*.py``, inserted by the leaf config.
norm_cfg = dict(type='BN', requires_grad=True)  # BN, not SyncBN: CPU-safe
# pads the depth map with 0 = invalid (mmseg's SegDataPreProcessor: 255)
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
    type='DenseDepthEstimator',
    data_preprocessor=data_preprocessor,
    decode_head=dict(
        type='ASPPDepthHead',
        in_index=3,
        channels=128,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        max_depth=10.0,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='DepthSiLogLoss', loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNDepthHead',
        in_index=2,
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        max_depth=10.0,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='DepthSiLogLoss', loss_weight=0.4)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
