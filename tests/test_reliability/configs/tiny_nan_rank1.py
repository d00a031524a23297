"""``tiny_reliable.py`` whose loss is NaN on rank 1 only in iteration 3
(``PoisonRankHook`` of ``fault_hooks.py``), for 2-rank runs."""
_base_ = ['./tiny_reliable.py']
custom_imports = dict(imports=['cmim_dense', 'fault_hooks'])
train_cfg = dict(max_iters=5)
custom_hooks = [
    dict(type='BinarizerScheduleHook'),
    dict(type='RNGStateHook'),
    dict(type='PoisonRankHook', rank=1, at_iter=3),
]
