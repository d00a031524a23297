# Segmentation protocol (ours, mmseg conventions): 40 classes, 795 / 654
# frames at 480x640, mmseg's augmentation, DeepLabV3 + FCN auxiliary head
# (0.4), CE over valid pixels, Adam 2e-4 for 40k iterations, mIoU over the
# whole frames. docs/nyudv2_protocols.md.
_base_ = [
    '../models/deeplabv3_os8.py',
    '../datasets/nyudv2_seg.py',
    '../schedules/adam_poly_40k.py',
    '../default_runtime.py',
]
