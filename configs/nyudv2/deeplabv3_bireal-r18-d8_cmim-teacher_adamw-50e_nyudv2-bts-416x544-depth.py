# CMIM, FP-teacher form (the released code's), over
#   deeplabv3_bireal-r18-d8_cmim_adamw-50e_nyudv2-bts-416x544-depth.py
# the BNN's stage outputs against those of the frozen, trained FP model of
#   deeplabv3_fp-r18-d8_adamw-50e_nyudv2-bts-416x544-depth.py
# (its default work_dir holds the checkpoint below; or --cfg-options
# model.teacher.checkpoint=PATH). The teacher is not saved with the student.
_base_ = [
    './deeplabv3_bireal-r18-d8_cmim_adamw-50e_nyudv2-bts-416x544-depth.py'
]
teacher_name = 'deeplabv3_fp-r18-d8_adamw-50e_nyudv2-bts-416x544-depth'
model = dict(
    layers='stages',  # the outputs of the backbone's stages
    teacher=dict(
        config='{{ fileDirname }}/' + teacher_name + '.py',
        checkpoint='work_dirs/' + teacher_name + '/iter_302900.pth'))
