# Bi-Real ResNet-18 (real-valued shortcut around every binary conv, pooled FP
# downsample), output stride 8: replaces the default backbone (_delete_); a
# leaf applies it with model = dict(backbone={{_base_.backbone}}). Same stage
# widths as IR-Net ResNet-18 (512 / 256).
backbone = dict(
    _delete_=True,
    type='BiRealResNet',
    depth=18,
    binarizer='bireal',
    strides=(1, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True),
    # ImageNet initialisation; a missing file stops with where to get it
    # (nothing is downloaded). From scratch on purpose:
    # --cfg-options model.backbone.init_cfg=None (logged loudly)
    init_cfg=dict(
        type='PretrainedBackbone',
        checkpoint='checkpoints/bireal-r18-imagenet_cmim-dense.pth',
        source=('the ImageNet Bi-Real-Net 18 of its authors, converted by '
                'tools/model_converters/bnn2cmim.py --arch bireal-r18 '
                '(see docs/pretrained.md)')))
