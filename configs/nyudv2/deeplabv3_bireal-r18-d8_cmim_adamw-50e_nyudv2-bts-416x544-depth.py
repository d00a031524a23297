# CMIM piled on deeplabv3_bireal-r18-d8_adamw-50e_nyudv2-bts-416x544-depth.py:
# only these lines differ.
_base_ = ['./deeplabv3_bireal-r18-d8_adamw-50e_nyudv2-bts-416x544-depth.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='last_per_stage',  # the last binary conv of each stage
    loss_weight=1.0)
