# Bi-Real ResNet-18 (real-valued shortcut around every binary conv, pooled FP
# downsample), output stride 8: an override of the default backbone
# (irnet-r18.py), whose ResNet layout (depth, strides, dilations,
# out_indices, norm_cfg) it keeps; a leaf applies it with
# model = dict(backbone={{_base_.backbone}}). Same stage widths (512 / 256).
backbone = dict(
    type='BiRealResNet',
    binarizer='bireal',
    init_cfg=dict(
        checkpoint='checkpoints/bireal-r18-imagenet_cmim-dense.pth',
        source=('the ImageNet Bi-Real-Net 18 of its authors, converted by '
                'tools/model_converters/bnn2cmim.py --arch bireal-r18 '
                '(see docs/pretrained.md)')))
