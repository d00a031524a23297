# CMIM piled on deeplabv3_irnet-r18-d8_adam-100e_nyudv2-mtl-480x640-multitask.py:
# only these lines differ.
_base_ = ['./deeplabv3_irnet-r18-d8_adam-100e_nyudv2-mtl-480x640-multitask.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='last_per_stage',  # the last binary conv of each stage
    loss_weight=1.0)
