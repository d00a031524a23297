# ReActNet's two-step training, step 1 (the authors' mobilenet/1_step1):
# binary activations (RSign), FP weights in every binary conv. Step 2,
# deeplabv3_reactnet-a-step2-d8_adamw-50e_nyudv2-bts-416x544-depth.py, binarizes
# the weights too and starts from this run's last checkpoint.
_base_ = ['./deeplabv3_reactnet-a-d8_adamw-50e_nyudv2-bts-416x544-depth.py']
model = dict(backbone=dict(binary_roles=dict(weight_quantizer=False)))
