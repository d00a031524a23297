# DeepLabV3 on FP ResNet-18 (IR-Net ResNet-18, FP convs; torchvision ImageNet weights),
# output stride 8: NYUD-v2 segmentation (40 classes)
# + depth, the multi-task protocol (MTL-PyTorch's 2-task baseline)
# (configs/README.md, docs/nyudv2_protocols.md).
_base_ = [
    '../_base_/protocols/nyudv2_multitask_mtl.py',
    '../_base_/models/backbones/fp-r18.py',  # swap the backbone here
]
model = dict(
    backbone={{_base_.backbone}},
    heads=dict(
        seg=dict(in_channels={{_base_.head_in_channels}}),
        depth=dict(in_channels={{_base_.head_in_channels}})))
