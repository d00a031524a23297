# CMIM, FP-teacher form, piled on deeplabv3_irnet-r18-d8_nyudv2-40.py: the
# BNN's stage outputs against those of the frozen FP model of
# deeplabv3_fp-r18-d8_nyudv2-40.py (set model.teacher.checkpoint=PATH).
_base_ = ['./deeplabv3_irnet-r18-d8_nyudv2-40.py']
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='stages',
    teacher=dict(
        config='{{ fileDirname }}/deeplabv3_fp-r18-d8_nyudv2-40.py',
        checkpoint='checkpoints/deeplabv3_fp-r18-d8_nyudv2-40.pth',  # set
        layers='stages'),
    loss_weight=1.0)
