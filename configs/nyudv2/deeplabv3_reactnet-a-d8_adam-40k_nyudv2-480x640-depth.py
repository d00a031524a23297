# DeepLabV3 on ReActNet-A, output stride 8: NYUD-v2 depth, 795/654 frames at
# 480x640, Adam + poly, 40k iterations of batch 8 (protocol:
# configs/README.md).
_base_ = [
    '../_base_/models/deeplabv3_depth_os8.py',
    '../_base_/models/backbones/reactnet-a.py',  # swap the backbone here
    '../_base_/datasets/nyudv2_depth.py',
    '../_base_/schedules/adam_poly_40k.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone={{_base_.backbone}},
    decode_head=dict(in_channels={{_base_.head_in_channels}}),
    auxiliary_head=dict(in_channels={{_base_.aux_in_channels}}))
