# The CPU-scale study: FP vs IR-Net vs IR-Net + CMIM (in-batch and memory
# bank) on the synthetic NYUD-v2 twin, multi-task (40-class segmentation +
# depth), 3 seeds each. Protocol (fixed before any CMIM number): docs/study.md.
#   python tools/analysis_tools/run_study.py \
#       configs/studies/cpu_multitask_synthetic.py --jobs 2
# 12 runs of 600 iterations; about 25-30 min with --jobs 2 on 2 quiet cores.
work_dir = './work_dirs/studies/cpu_multitask_synthetic'
seeds = [0, 1, 2]
# final = the validation after the last iteration (43 test frames)
metrics = [
    dict(key='mIoU', direction='higher'),
    dict(key='aAcc', direction='higher'),
    dict(key='rmse', direction='lower'),
    dict(key='abs_rel', direction='lower'),
    dict(key='d1', direction='higher'),
]
_configs = './cpu_multitask/'
candidates = [
    dict(
        name='fp',
        label='FP',
        config=_configs + 'fp-r18-w16_adam-600_synthetic-120x160-multitask.py'),
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
