# Bi-Real ResNet-34, output stride 8 (bireal-r18.py with 34 layers; a leaf
# applies it with model = dict(backbone={{_base_.backbone}})).
_base_ = ['./bireal-r18.py']
backbone = dict(
    depth=34,
    init_cfg=dict(
        checkpoint='checkpoints/bireal-r34-imagenet_cmim-dense.pth',
        source=('the ImageNet Bi-Real-Net 34 of its authors, converted by '
                'tools/model_converters/bnn2cmim.py --arch bireal-r34 '
                '(see docs/pretrained.md)')))
