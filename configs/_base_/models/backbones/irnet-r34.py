# IR-Net ResNet-34, output stride 8: an override of the default backbone
# (irnet-r18.py), naming only what differs; a leaf applies it with
# model = dict(backbone={{_base_.backbone}}). Same stage widths as R-18.
backbone = dict(
    depth=34,
    init_cfg=dict(
        checkpoint='checkpoints/irnet-r34-imagenet_cmim-dense.pth',
        source=('the ImageNet IR-Net ResNet-34 of its authors, converted by '
                'tools/model_converters/bnn2cmim.py --arch irnet-r34 '
                '(see docs/pretrained.md)')))
