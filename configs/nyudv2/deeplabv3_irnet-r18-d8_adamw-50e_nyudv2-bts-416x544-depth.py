# The depth anchor: DeepLabV3 on IR-Net ResNet-18 (its authors' ImageNet
# weights), output stride 8: NYUD-v2 monocular depth,
# the BTS protocol
# (configs/README.md, docs/nyudv2_protocols.md). Every other depth leaf
# inherits this file; the model base brings the default backbone, IR-Net
# ResNet-18.
_base_ = [
    '../_base_/models/deeplabv3_depth_os8.py',
    '../_base_/datasets/nyudv2_depth_bts.py',
    '../_base_/schedules/adamw_poly_50e_bts.py',
    '../_base_/default_runtime.py',
]
