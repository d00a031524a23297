# The CPU-scale study: FP vs IR-Net vs IR-Net + CMIM (in-batch and memory
# bank) on the synthetic NYUD-v2 twin, multi-task (40-class segmentation +
# depth), 3 seeds each. Protocol (fixed before any CMIM number): docs/study.md.
#   python tools/analysis_tools/run_study.py \
#       configs/studies/cpu_multitask_synthetic.py --jobs 2
# 12 runs of 600 iterations; about 30 min with --jobs 2 on 2 quiet cores.
_base_ = ['./_base_/metrics.py']
work_dir = './work_dirs/studies/cpu_multitask_synthetic'
seeds = [0, 1, 2]
# final = the validation after the last iteration (43 test frames)
metrics = _base_.multitask_metrics
_configs = './cpu_multitask/'
candidates = [
    dict(
        name='fp',
        label='FP',
        config=_configs +
        'fp-r18-w16_adam-600_synthetic-120x160-multitask.py'),
    dict(
        name='irnet',
        label='IR-Net',
        config=_configs +
        'irnet-r18-w16_adam-600_synthetic-120x160-multitask.py'),
    dict(
        name='irnet_cmim',
        label='IR-Net + CMIM (in-batch)',
        config=_configs +
        'irnet-r18-w16_cmim_adam-600_synthetic-120x160-multitask.py',
        baseline='irnet'),
    dict(
        name='irnet_cmim_bank',
        label='IR-Net + CMIM (memory bank)',
        config=_configs +
        'irnet-r18-w16_cmim-bank_adam-600_synthetic-120x160-multitask.py',
        baseline='irnet'),
]
