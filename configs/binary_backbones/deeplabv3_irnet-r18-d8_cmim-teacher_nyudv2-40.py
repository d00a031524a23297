# CMIM, FP-teacher form, over deeplabv3_irnet-r18-d8_cmim_nyudv2-40.py: the
# BNN's stage outputs against those of the frozen FP model of
# deeplabv3_fp-r18-d8_nyudv2-40.py (set model.teacher.checkpoint=PATH).
_base_ = ['./deeplabv3_irnet-r18-d8_cmim_nyudv2-40.py']
model = dict(
    layers='stages',
    teacher=dict(
        config='{{ fileDirname }}/deeplabv3_fp-r18-d8_nyudv2-40.py',
        checkpoint='checkpoints/deeplabv3_fp-r18-d8_nyudv2-40.pth'))
