# DeepLabV3 on FP ResNet-18 (IR-Net ResNet-18 with FP convs; torchvision
# ImageNet weights), output stride 8: the segmentation anchor (the first
# _base_ entry) with another backbone.
_base_ = [
    './deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-seg.py',
    '../_base_/models/backbones/fp-r18.py',
]
model = dict(backbone={{_base_.backbone}})
