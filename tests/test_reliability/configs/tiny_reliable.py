"""The tiny config set up for the reliability scenarios (real processes).

Deterministic mode, no ``randomness.seed`` (the tests pass
``randomness.seed=0`` to the first run and let ``--resume`` take the seed of
the checkpoint), atomic checkpoints every 3 iterations keeping one (so a
failed save must not remove the previous one first), every rank's RNG state
in the checkpoints, the preemption hook and the non-finite guard; 10
iterations, no validation. With the tests' 8 training images (4 iterations
per epoch) the checkpoints 3, 6 and 9 are in the middle of an epoch. ``data_root`` is set by ``--cfg-options``.
"""
_base_ = ['../../data/configs/tiny_seg.py']
randomness = dict(_delete_=True, seed=None, deterministic=True)
max_iters = 10
optim_wrapper = dict(type='NonFiniteGuardOptimWrapper', policy='skip')
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', interval=3, max_keep_ckpts=1))
custom_hooks = [
    dict(type='BinarizerScheduleHook'),
    dict(type='RNGStateHook'),
    dict(type='PreemptionHook'),
]
