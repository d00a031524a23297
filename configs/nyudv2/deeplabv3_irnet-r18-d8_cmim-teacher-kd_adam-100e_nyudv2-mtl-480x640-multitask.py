# The FP-teacher form of CMIM plus both distillation terms: per-pixel KL on
# the segmentation head, |log d_BNN - log d_FP| on the depth head.
_base_ = [
    './deeplabv3_irnet-r18-d8_cmim-teacher_adam-100e_nyudv2-mtl-480x640-multitask.py'  # noqa: E501
]
model = dict(distill=[
    dict(
        student='heads.seg.conv_seg',
        loss=dict(
            type='PixelKLDistillLoss', temperature=1.0, loss_weight=1.0)),
    dict(
        student='heads.depth.conv_depth',
        loss=dict(type='DepthDistillLoss', mode='log_l1', loss_weight=1.0))
])
