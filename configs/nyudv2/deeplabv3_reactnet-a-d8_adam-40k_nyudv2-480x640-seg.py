# DeepLabV3 on ReActNet-A (its authors' ImageNet weights), output stride 8:
# the segmentation anchor (the first _base_ entry) with another backbone
# (wider: the heads' in_channels too).
_base_ = [
    './deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-seg.py',
    '../_base_/models/backbones/reactnet-a.py',
]
model = dict(
    backbone={{_base_.backbone}},
    decode_head=dict(in_channels={{_base_.head_in_channels}}),
    auxiliary_head=dict(in_channels={{_base_.aux_in_channels}}))
