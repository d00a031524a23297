# ReActNet's two-step training, step 2 (the authors' mobilenet/2_step2):
# binary activations and weights, the whole model initialised from step 1's
# last checkpoint (its default work_dir; pass --cfg-options load_from=PATH
# for another). Train step 1 first:
# deeplabv3_reactnet-a-step1-d8_adamw-50e_nyudv2-bts-416x544-depth.py.
_base_ = ['./deeplabv3_reactnet-a-d8_adamw-50e_nyudv2-bts-416x544-depth.py']
load_from = ('./work_dirs/deeplabv3_reactnet-a-step1-d8_adamw-50e_'
             'nyudv2-bts-416x544-depth/iter_302900.pth')
