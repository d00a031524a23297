# One binary backbone at output stride 8, two DeepLabV3 heads: NYUD-v2
# 40-class segmentation (the heads of deeplabv3_os8.py) and depth (those of
# deeplabv3_depth_os8.py), loss weights 1 / 1; loss items are prefixed
# 'seg.' / 'depth.'. The backbone and its channels come from one of
# ``_base_/models/backbones/*.py``, inserted by the leaf config.
_base_ = ['./nyudv2_heads.py']
model = dict(
    type='MultiTaskEncoderDecoder',
    data_preprocessor={{_base_.data_preprocessor}},
    heads=dict(seg={{_base_.seg_head}}, depth={{_base_.depth_head}}),
    # training only, on stage 3, as in the single-task models
    auxiliary_heads=dict(
        seg={{_base_.seg_aux_head}}, depth={{_base_.depth_aux_head}}),
    loss_weights=dict(seg=1.0, depth=1.0),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
