# DeepLabV3 on ReActNet-A (its authors' ImageNet weights), output stride 8:
# the monocular-depth anchor (the first _base_ entry) with another backbone
# (wider: the heads' in_channels too).
_base_ = [
    './deeplabv3_irnet-r18-d8_adamw-50e_nyudv2-bts-416x544-depth.py',
    '../_base_/models/backbones/reactnet-a.py',
]
model = dict(
    backbone={{_base_.backbone}},
    decode_head=dict(in_channels={{_base_.head_in_channels}}))
