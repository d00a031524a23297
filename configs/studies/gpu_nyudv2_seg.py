# The paper's NYUD-v2 table, segmentation (40 classes): FP / IR-Net /
# IR-Net + CMIM / Bi-Real / Bi-Real + CMIM / ReActNet-A / ReActNet-A +
# CMIM (listed in _base_/nyudv2_gpu.py), 3 seeds each, the full configs of
# configs/nyudv2/ (their recipes: docs/nyudv2_protocols.md).
#   python tools/analysis_tools/run_study.py \
#       configs/studies/gpu_nyudv2_seg.py --launcher pytorch --gpus 4
# (add --jobs N to train N runs side by side on N x 4 GPUs); docs/study.md.
_base_ = ['./_base_/nyudv2_gpu.py', './_base_/metrics.py']
work_dir = './work_dirs/studies/gpu_nyudv2_seg'
metrics = _base_.seg_metrics
candidates = _base_.nyudv2_task_candidates['seg']
