# CMIM, FP-teacher form (the released code's), piled on
# deeplabv3_bireal-r18-d8_adam-40k_nyudv2-480x640-seg.py: the BNN's stage outputs are contrasted
# with those of the FP model of deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640-seg.py,
# trained first (tools/train.py on it writes the checkpoint below; or set
# --cfg-options model.teacher.checkpoint=PATH). The teacher is frozen and
# not saved with the student.
_base_ = ['./deeplabv3_bireal-r18-d8_adam-40k_nyudv2-480x640-seg.py']
teacher_config = 'deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640-seg.py'
model = dict(
    _delete_=True,
    type='CMIM',
    architecture={{_base_.model}},
    layers='stages',  # the outputs of the backbone's stages
    teacher=dict(
        config='{{ fileDirname }}/' + teacher_config,
        checkpoint='work_dirs/deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640-seg/iter_40000.pth',
        layers='stages'),
    loss_weight=1.0)
