# DeepLabV3 on bireal-r34 (output stride 8), NYUD-v2 40 classes: model only.
# To swap the backbone, change the second _base_ line.
_base_ = [
    '../_base_/models/deeplabv3_os8.py',
    '../_base_/models/backbones/bireal-r34.py',
]
custom_imports = dict(imports=['cmim_dense'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    backbone={{_base_.backbone}},
    decode_head=dict(in_channels={{_base_.head_in_channels}}),
    auxiliary_head=dict(in_channels={{_base_.aux_in_channels}}))
