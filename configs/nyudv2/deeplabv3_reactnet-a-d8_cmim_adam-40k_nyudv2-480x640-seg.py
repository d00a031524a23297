# CMIM piled on deeplabv3_reactnet-a-d8_adam-40k_nyudv2-480x640-seg.py:
# only these lines differ.
_base_ = ['./deeplabv3_reactnet-a-d8_adam-40k_nyudv2-480x640-seg.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='last_per_stage',  # the last binary conv of each stage
    loss_weight=1.0)
