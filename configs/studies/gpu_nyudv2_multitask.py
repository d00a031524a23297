# The paper's NYUD-v2 table, segmentation + depth (one backbone): FP /
# IR-Net / IR-Net + CMIM / Bi-Real / Bi-Real + CMIM / ReActNet-A / ReActNet-A +
# CMIM (listed in _base_/nyudv2_gpu.py), 3 seeds each, the full configs of
# configs/nyudv2/ (40k iterations of batch 8 at 480x640).
#   python tools/analysis_tools/run_study.py \
#       configs/studies/gpu_nyudv2_multitask.py --launcher pytorch --gpus 4
# (add --jobs N to train N runs side by side on N x 4 GPUs); docs/study.md.
_base_ = ['./_base_/nyudv2_gpu.py', './_base_/metrics.py']
_task = 'multitask'
work_dir = f'./work_dirs/studies/gpu_nyudv2_{_task}'
metrics = _base_.multitask_metrics
candidates = [
    dict(
        name=name,
        label=label,
        config=f'../nyudv2/{config}-{_task}.py',
        baseline=baseline)
    for name, label, config, baseline in _base_.nyudv2_candidates
]
