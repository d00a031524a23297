"""The tiny config with CMIM piled on: only the model changes."""
_base_ = ['./tiny_seg.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='last_per_stage',
    embed_dim=16,
    loss_weight=1.0,
    memory_bank=dict(size=4, num_negatives=2))
