# The seg anchor: DeepLabV3 on IR-Net ResNet-18 (its authors' ImageNet
# weights), output stride 8: NYUD-v2 40-class segmentation,
# the segmentation protocol (ours, mmseg conventions)
# (configs/README.md, docs/nyudv2_protocols.md). Every other seg leaf
# inherits this file; the model base brings the default backbone, IR-Net
# ResNet-18.
_base_ = [
    '../_base_/models/deeplabv3_os8.py',
    '../_base_/datasets/nyudv2_seg.py',
    '../_base_/schedules/adam_poly_40k.py',
    '../_base_/default_runtime.py',
]
