# The pieces the NYUD-v2 model bases share: data preprocessor, the FP
# DeepLabV3 heads (ASPP decode heads on stage 4, FCN auxiliary heads on
# stage 3, training only) and the depth losses. The model bases combine them
# with the default backbone (backbones/irnet-r18.py): the heads' in_channels
# are its stage 4 / stage 3 widths; a leaf with a wider backbone overrides
# them (configs/README.md).
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
# segmentation CE averaged over the valid (non-ignored, non-padded) pixels,
# as the multi-task recipes (mmseg's default avg_non_ignore=False divides by
# every pixel); --cfg-options ...loss_decode.avg_non_ignore=False restores it
seg_loss = dict(
    type='CrossEntropyLoss',
    use_sigmoid=False,
    avg_non_ignore=True,
    loss_weight=1.0)
# the depth losses a config can pick (all over valid pixels, gt > min_depth):
# model.heads.depth.loss_decode = dict(_delete_=True, **one of these) in a
# leaf, or --cfg-options on the keys they share
depth_losses = dict(
    l1=dict(type='DepthL1Loss', loss_weight=1.0),  # the multi-task recipes
    silog_mmseg=dict(type='DepthSiLogLoss', variant='mmseg', loss_weight=1.0),
    # BTS: lambda 0.85, x10, pooled over the batch, valid gt > 0.1 m
    silog_bts=dict(
        type='DepthSiLogLoss', variant='bts', min_depth=0.1, loss_weight=1.0),
    berhu=dict(type='BerHuLoss', loss_weight=1.0))
seg_head = dict(
    type='ASPPHead',
    in_channels=512,
    in_index=3,
    channels=128,
    dilations=(1, 12, 24, 36),
    dropout_ratio=0.1,
    num_classes=40,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=seg_loss)
seg_aux_head = dict(
    type='FCNHead',
    in_channels=256,
    in_index=2,
    channels=64,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.1,
    num_classes=40,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(seg_loss, loss_weight=0.4))
depth_head = dict(
    type='ASPPDepthHead',
    in_channels=512,
    in_index=3,
    channels=128,
    dilations=(1, 12, 24, 36),
    dropout_ratio=0.1,
    max_depth=10.0,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=depth_losses['l1'])
depth_aux_head = dict(
    type='FCNDepthHead',
    in_channels=256,
    in_index=2,
    channels=64,
    num_convs=1,
    concat_input=False,
    dropout_ratio=0.1,
    max_depth=10.0,
    norm_cfg=norm_cfg,
    align_corners=False,
    loss_decode=dict(depth_losses['l1'], loss_weight=0.4))
# the depth head of the monocular-depth protocol (BTS's SiLog)
depth_head_bts = dict(depth_head, loss_decode=depth_losses['silog_bts'])
