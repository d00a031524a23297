# IR-Net ResNet-18 (the ImageNet ResNet-18 of IR-Net, RBNN and ReCU: Hardtanh
# stem, FP 1x1 downsample; not CMIM's CIFAR ResNet-18), output stride 8: the
# default backbone of the model bases, which include this file (its stage 4 /
# stage 3 widths, 512 / 256, are the heads' in_channels in nyudv2_heads.py).
# Unlike the other files here, it sets model.backbone itself; they are
# overrides a leaf merges onto it (configs/README.md).
model = dict(
    backbone=dict(
        type='IRNetResNet',
        depth=18,
        binarizer='irnet',
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        out_indices=(0, 1, 2, 3),
        norm_cfg=dict(type='BN', requires_grad=True),
        # ImageNet initialisation; a missing file stops with where to get it
        # (nothing is downloaded). From scratch on purpose:
        # --cfg-options model.backbone.init_cfg=None (logged loudly)
        init_cfg=dict(
            type='PretrainedBackbone',
            checkpoint='checkpoints/irnet-r18-imagenet_cmim-dense.pth',
            source=('the ImageNet IR-Net ResNet-18 of its authors, converted '
                    'by tools/model_converters/bnn2cmim.py --arch irnet-r18 '
                    '(see docs/pretrained.md)'))))
