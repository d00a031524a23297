# The CPU-scale study's FP row: the IR-Net row's network with FP convs.
_base_ = ['./irnet-r18-w16_adam-600_synthetic-120x160-multitask.py']
model = dict(backbone=dict(binarizer=None))
work_dir = './work_dirs/studies/cpu_multitask/fp'
