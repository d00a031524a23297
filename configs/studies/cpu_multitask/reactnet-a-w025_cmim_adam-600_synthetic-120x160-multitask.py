# The ReActNet-A row with CMIM (in-batch), the IR-Net + CMIM row's settings.
_base_ = ['./reactnet-a-w025_adam-600_synthetic-120x160-multitask.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='last_per_stage',  # the last binary conv of each stage
    embed_dim=32,
    loss_weight=0.5)
work_dir = './work_dirs/studies/cpu_multitask/reactnet_cmim'
