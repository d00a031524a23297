# The CPU-scale binarizer-family study's ReActNet-A row: the IR-Net row's
# heads and budget on ReActNet-A at a quarter of its width (stem 8 channels,
# stages 32 / 64 / 128 / 256), output stride 8. Protocol: docs/study.md.
_base_ = ['./irnet-r18-w16_adam-600_synthetic-120x160-multitask.py']
model = dict(
    backbone=dict(_delete_=True, type='ReActNet', binarizer='reactnet',
                  widen_factor=0.25, strides=(2, 2, 1, 1),
                  dilations=(1, 1, 2, 4), norm_cfg={{_base_.norm_cfg}}),
    heads=dict(seg=dict(in_channels=256), depth=dict(in_channels=256)))
work_dir = './work_dirs/studies/cpu_multitask/reactnet'
