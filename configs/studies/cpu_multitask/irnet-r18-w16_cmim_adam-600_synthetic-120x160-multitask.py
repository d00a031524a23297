# The CPU-scale study's IR-Net + CMIM (in-batch InfoNCE) row: CMIM piled on
# irnet-r18-w16_adam-600_synthetic-120x160-multitask.py with the quickstart's
# CMIM settings; only these lines differ.
_base_ = ['./irnet-r18-w16_adam-600_synthetic-120x160-multitask.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='last_per_stage',  # the last binary conv of each stage
    embed_dim=32,
    loss_weight=0.5)
work_dir = './work_dirs/studies/cpu_multitask/irnet_cmim'
