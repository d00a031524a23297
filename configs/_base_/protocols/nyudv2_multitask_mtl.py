# Multi-task protocol (default): MTL-PyTorch's 2-task NYUD baseline (L1
# depth, CE over valid pixels, weights 1 / 1, no auxiliary heads, depth
# divided by the zoom, Adam 1e-4 for 100 epochs, scored on the 425x560
# NYUD_MT window, depth over all test pixels) with our DeepLabV3 heads.
# What matches and what differs: docs/nyudv2_protocols.md.
_base_ = [
    '../models/deeplabv3_multitask_os8.py',
    '../datasets/nyudv2_multitask.py',
    '../schedules/adam_poly_100e_mtl.py',
    '../default_runtime.py',
]
