# DeepLabV3 on Bi-Real ResNet-18 (its authors' ImageNet weights), output
# stride 8: the monocular-depth anchor (the first _base_ entry) with another
# backbone.
_base_ = [
    './deeplabv3_irnet-r18-d8_adamw-50e_nyudv2-bts-416x544-depth.py',
    '../_base_/models/backbones/bireal-r18.py',
]
model = dict(backbone={{_base_.backbone}})
