# DeepLabV3 (ASPP head) on a binary backbone at output stride 8, for NYUD-v2
# segmentation (40 classes, CE over valid pixels) with mmseg's FCN auxiliary
# head on stage 3 (loss weight 0.4, training only; off: --cfg-options
# model.auxiliary_head=None). The backbone is the default one,
# ``backbones/irnet-r18.py``; a leaf swaps it with one of the other
# ``backbones/*.py`` (configs/README.md).
_base_ = ['./nyudv2_heads.py', './backbones/irnet-r18.py']
model = dict(
    type='EncoderDecoder',
    data_preprocessor={{_base_.data_preprocessor}},
    decode_head={{_base_.seg_head}},
    auxiliary_head={{_base_.seg_aux_head}},
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
