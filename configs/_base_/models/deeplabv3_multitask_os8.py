# One backbone at output stride 8, two DeepLabV3 heads: NYUD-v2 40-class
# segmentation (CE over valid pixels) and depth (L1 over valid pixels), loss
# weights 1 / 1, no auxiliary heads: MTL-PyTorch's multi-task baseline with
# our heads. Loss items are prefixed 'seg.' / 'depth.'. The backbone and its
# channels come from one of ``_base_/models/backbones/*.py``, inserted by the
# leaf config (auxiliary heads on: docs/nyudv2_protocols.md).
_base_ = ['./nyudv2_heads.py']
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor={{_base_.data_preprocessor}},
    heads=dict(seg={{_base_.seg_head}}, depth={{_base_.depth_head}}),
    loss_weights=dict(seg=1.0, depth=1.0),
    train_cfg=dict(),
    # flip test-time augmentation: --cfg-options model.test_cfg.flip=True
    test_cfg=dict(mode='whole', flip=False))
