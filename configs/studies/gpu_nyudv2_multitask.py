# The paper's NYUD-v2 table, segmentation + depth (one backbone): FP / IR-Net / IR-Net + CMIM /
# Bi-Real / Bi-Real + CMIM / ReActNet-A / ReActNet-A + CMIM, 3 seeds each,
# the full configs of configs/nyudv2/ (40k iterations of batch 8 at 480x640).
#   python tools/analysis_tools/run_study.py \
#       configs/studies/gpu_nyudv2_multitask.py --launcher pytorch --gpus 4
# (add --jobs N to train N runs side by side on N x 4 GPUs). GPU time:
# docs/study.md.
_base_ = ['./_base_/nyudv2_gpu.py']
work_dir = './work_dirs/studies/gpu_nyudv2_multitask'
metrics = [
    dict(key='mIoU', direction='higher'),
    dict(key='aAcc', direction='higher'),
    dict(key='rmse', direction='lower'),
    dict(key='abs_rel', direction='lower'),
    dict(key='d1', direction='higher'),
]
_dir = '../nyudv2/'
candidates = [
    dict(
        name='fp',
        label='FP',
        config=_dir + 'deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640-multitask.py'),
    dict(
        name='irnet',
        label='IR-Net',
        config=_dir +
        'deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-multitask.py'),
    dict(
        name='irnet_cmim',
        label='IR-Net + CMIM',
        config=_dir +
        'deeplabv3_irnet-r18-d8_cmim_adam-40k_nyudv2-480x640-multitask.py',
        baseline='irnet'),
    dict(
        name='bireal',
        label='Bi-Real',
        config=_dir +
        'deeplabv3_bireal-r18-d8_adam-40k_nyudv2-480x640-multitask.py'),
    dict(
        name='bireal_cmim',
        label='Bi-Real + CMIM',
        config=_dir +
        'deeplabv3_bireal-r18-d8_cmim_adam-40k_nyudv2-480x640-multitask.py',
        baseline='bireal'),
    dict(
        name='reactnet',
        label='ReActNet-A',
        config=_dir +
        'deeplabv3_reactnet-a-d8_adam-40k_nyudv2-480x640-multitask.py'),
    dict(
        name='reactnet_cmim',
        label='ReActNet-A + CMIM',
        config=_dir +
        'deeplabv3_reactnet-a-d8_cmim_adam-40k_nyudv2-480x640-multitask.py',
        baseline='reactnet'),
]
