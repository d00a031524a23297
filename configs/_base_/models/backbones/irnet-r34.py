# IR-Net ResNet-34, output stride 8.
_base_ = ['./irnet-r18.py']
backbone = dict(
    depth=34,
    init_cfg=dict(
        checkpoint='checkpoints/irnet-r34-imagenet_cmim-dense.pth',
        source=('the ImageNet IR-Net ResNet-34 of its authors, converted by '
                'tools/model_converters/bnn2cmim.py --arch irnet-r34 '
                '(see docs/pretrained.md)')))
