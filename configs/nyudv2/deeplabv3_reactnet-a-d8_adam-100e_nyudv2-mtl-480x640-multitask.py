# DeepLabV3 on ReActNet-A (its authors' ImageNet weights), output stride 8:
# the multi-task anchor (the first _base_ entry) with another backbone
# (wider: the heads' in_channels too).
_base_ = [
    './deeplabv3_irnet-r18-d8_adam-100e_nyudv2-mtl-480x640-multitask.py',
    '../_base_/models/backbones/reactnet-a.py',
]
model = dict(
    backbone={{_base_.backbone}},
    heads=dict(
        seg=dict(in_channels={{_base_.head_in_channels}}),
        depth=dict(in_channels={{_base_.head_in_channels}})))
