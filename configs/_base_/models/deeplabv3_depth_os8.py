# DeepLabV3 (ASPP head) regressing NYUD-v2 depth on a binary backbone at
# output stride 8: the depth counterpart of deeplabv3_os8.py (same backbone
# slot, same head sizes, FP heads). Depth in metres, bounded to (0, 10) m by
# the heads, SiLog loss. The backbone and its channels come from one of
# ``_base_/models/backbones/*.py``, inserted by the leaf config.
_base_ = ['./nyudv2_heads.py']
model = dict(
    type='DenseDepthEstimator',
    data_preprocessor={{_base_.data_preprocessor}},
    decode_head={{_base_.depth_head}},
    auxiliary_head={{_base_.depth_aux_head}},
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
