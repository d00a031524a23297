# The FP-teacher form of CMIM plus a depth distillation term: the BNN's depth
# map follows the FP teacher's, |log d_BNN - log d_FP| per pixel.
_base_ = [
    './deeplabv3_irnet-r18-d8_cmim-teacher_adamw-50e_nyudv2-bts-416x544-depth.py'  # noqa: E501
]
model = dict(distill=[
    dict(
        student='decode_head.conv_depth',
        loss=dict(type='DepthDistillLoss', mode='log_l1', loss_weight=1.0))
])
