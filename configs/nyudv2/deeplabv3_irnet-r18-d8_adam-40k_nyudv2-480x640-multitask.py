# DeepLabV3 on IR-Net ResNet-18, output stride 8: NYUD-v2 segmentation (40
# classes) + depth, 795/654 frames at 480x640, Adam + poly, 40k iterations of
# batch 8 (protocol: configs/README.md).
_base_ = [
    '../_base_/models/deeplabv3_multitask_os8.py',
    '../_base_/models/backbones/irnet-r18.py',  # swap the backbone here
    '../_base_/datasets/nyudv2.py',
    '../_base_/schedules/adam_poly_40k.py',
    '../_base_/default_runtime.py',
]
model = dict(
    backbone={{_base_.backbone}},
    heads=dict(
        seg=dict(in_channels={{_base_.head_in_channels}}),
        depth=dict(in_channels={{_base_.head_in_channels}})),
    auxiliary_heads=dict(
        seg=dict(in_channels={{_base_.aux_in_channels}}),
        depth=dict(in_channels={{_base_.aux_in_channels}})))
