# The CPU-scale binarizer-family study: Bi-Real and ReActNet-A, each without
# and with CMIM (in-batch), on the protocol of cpu_multitask_synthetic.py
# (same data, heads, budget, seeds; FP reference row there). Protocol:
# docs/study.md.
#   python tools/analysis_tools/run_study.py \
#       configs/studies/cpu_multitask_families.py --jobs 2
_base_ = ['./_base_/metrics.py']
work_dir = './work_dirs/studies/cpu_multitask_families'
seeds = [0, 1, 2]
metrics = _base_.multitask_metrics
_configs = './cpu_multitask/'
candidates = [
    dict(
        name='bireal',
        label='Bi-Real',
        config=_configs +
        'bireal-r18-w16_adam-600_synthetic-120x160-multitask.py'),
    dict(
        name='bireal_cmim',
        label='Bi-Real + CMIM (in-batch)',
        config=_configs +
        'bireal-r18-w16_cmim_adam-600_synthetic-120x160-multitask.py',
        baseline='bireal'),
    dict(
        name='reactnet',
        label='ReActNet-A (x0.25)',
        config=_configs +
        'reactnet-a-w025_adam-600_synthetic-120x160-multitask.py'),
    dict(
        name='reactnet_cmim',
        label='ReActNet-A (x0.25) + CMIM (in-batch)',
        config=_configs +
        'reactnet-a-w025_cmim_adam-600_synthetic-120x160-multitask.py',
        baseline='reactnet'),
]
