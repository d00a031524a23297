"""``tiny_reliable.py`` whose checkpoint after iteration 6 fails to write
(``DiskFullHook`` of ``fault_hooks.py``)."""
_base_ = ['./tiny_reliable.py']
custom_imports = dict(imports=['cmim_dense', 'fault_hooks'])
custom_hooks = [
    dict(type='BinarizerScheduleHook'),
    dict(type='RNGStateHook'),
    dict(type='PreemptionHook'),
    dict(type='DiskFullHook', at_iter=6),
]
