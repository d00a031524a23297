# Monocular-depth protocol: the BTS recipe (BTS training split, NYU crop,
# rotation 2.5 degrees, flip, 416x544 crop, BTS's SiLog with valid gt > 0.1
# m, AdamW 1e-4 for 50 epochs at batch 4, Eigen crop, per-image metrics)
# with our DeepLabV3 depth head. docs/nyudv2_protocols.md.
_base_ = [
    '../models/deeplabv3_depth_os8.py',
    '../datasets/nyudv2_depth_bts.py',
    '../schedules/adamw_poly_50e_bts.py',
    '../default_runtime.py',
]
