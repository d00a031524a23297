# DeepLabV3 (ASPP head) regressing NYUD-v2 depth on a binary backbone at
# output stride 8, the monocular-depth protocol: depth in metres bounded to
# (0, 10) m by the head, BTS's SiLog loss (lambda 0.85, x10, valid gt > 0.1 m),
# no auxiliary head (BTS has none). The backbone is the default one,
# ``backbones/irnet-r18.py``; a leaf swaps it with one of the other
# ``backbones/*.py`` (configs/README.md).
_base_ = ['./nyudv2_heads.py', './backbones/irnet-r18.py']
model = dict(
    type='DenseDepthEstimator',
    data_preprocessor={{_base_.data_preprocessor}},
    decode_head={{_base_.depth_head_bts}},
    train_cfg=dict(),
    # flip test-time augmentation: --cfg-options model.test_cfg.flip=True
    test_cfg=dict(mode='whole', flip=False))
