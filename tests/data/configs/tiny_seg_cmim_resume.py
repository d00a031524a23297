"""The tiny CMIM config set up for exact resume (``tests/test_engine``).

Deterministic mode, atomic checkpoints, RNG state saved in checkpoints and
the non-finite guard; 8 iterations with a checkpoint every 3. The memory
bank is on, so its buffers must be restored too. ``num_workers=0`` keeps
the data pipeline (``RandomFlip``) on the main process's numpy RNG, which
the loop replays on resume when it skips the consumed batches.
"""
_base_ = ['./tiny_seg_cmim.py']
randomness = dict(seed=0, deterministic=True)
optim_wrapper = dict(type='NonFiniteGuardOptimWrapper', policy='skip')
param_scheduler = [
    dict(
        type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=8, by_epoch=False)
]
train_cfg = dict(max_iters=8, val_interval=100)
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', interval=3))
custom_hooks = [
    dict(type='BinarizerScheduleHook'),
    dict(type='RNGStateHook'),
]
