# The multitask anchor: DeepLabV3 on IR-Net ResNet-18 (its authors' ImageNet
# weights), output stride 8: NYUD-v2 segmentation (40 classes)
# + depth, the multi-task protocol (MTL-PyTorch's 2-task baseline)
# (configs/README.md, docs/nyudv2_protocols.md). Every other multitask leaf
# inherits this file; the model base brings the default backbone, IR-Net
# ResNet-18.
_base_ = [
    '../_base_/models/deeplabv3_multitask_os8.py',
    '../_base_/datasets/nyudv2_multitask.py',
    '../_base_/schedules/adam_poly_100e_mtl.py',
    '../_base_/default_runtime.py',
]
