# The CPU-scale binarizer-family study's Bi-Real row: the IR-Net row's
# network and budget with the Bi-Real ResNet-18 (16 base channels) and the
# Bi-Real binarizer. Protocol: docs/study.md.
_base_ = ['./irnet-r18-w16_adam-600_synthetic-120x160-multitask.py']
model = dict(
    backbone=dict(_delete_=True, type='BiRealResNet', depth=18,
                  binarizer='bireal', stem_channels=16, base_channels=16,
                  strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4),
                  norm_cfg={{_base_.norm_cfg}}))
work_dir = './work_dirs/studies/cpu_multitask/bireal'
