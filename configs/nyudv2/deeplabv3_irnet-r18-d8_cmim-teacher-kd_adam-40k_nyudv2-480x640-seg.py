# The FP-teacher form of CMIM plus ReActNet's distributional loss, per pixel:
# KL(teacher || BNN) of the class distributions of the decode heads' logits.
_base_ = [
    './deeplabv3_irnet-r18-d8_cmim-teacher_adam-40k_nyudv2-480x640-seg.py'
]
model = dict(distill=[
    dict(
        student='decode_head.conv_seg',
        loss=dict(
            type='PixelKLDistillLoss', temperature=1.0, loss_weight=1.0))
])
