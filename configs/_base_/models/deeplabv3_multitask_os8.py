# One backbone at output stride 8, two DeepLabV3 heads: NYUD-v2 40-class
# segmentation (CE over valid pixels) and depth (L1 over valid pixels), loss
# weights 1 / 1, no auxiliary heads: MTL-PyTorch's multi-task baseline with
# our heads. Loss items are prefixed 'seg.' / 'depth.'. The backbone is the
# default one, ``backbones/irnet-r18.py``; a leaf swaps it with one of the
# other ``backbones/*.py`` (configs/README.md; auxiliary heads on:
# docs/nyudv2_protocols.md).
_base_ = ['./nyudv2_heads.py', './backbones/irnet-r18.py']
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor={{_base_.data_preprocessor}},
    heads=dict(seg={{_base_.seg_head}}, depth={{_base_.depth_head}}),
    loss_weights=dict(seg=1.0, depth=1.0),
    train_cfg=dict(),
    # flip test-time augmentation: --cfg-options model.test_cfg.flip=True
    test_cfg=dict(mode='whole', flip=False))
