# DeepLabV3 on ReActNet-A (its authors' ImageNet weights),
# output stride 8: NYUD-v2 monocular depth, the
# BTS protocol
# (configs/README.md, docs/nyudv2_protocols.md).
_base_ = [
    '../_base_/protocols/nyudv2_depth_bts.py',
    '../_base_/models/backbones/reactnet-a.py',  # swap the backbone here
]
model = dict(
    backbone={{_base_.backbone}},
    decode_head=dict(in_channels={{_base_.head_in_channels}}))
