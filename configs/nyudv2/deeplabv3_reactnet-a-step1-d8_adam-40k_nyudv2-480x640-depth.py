# ReActNet's two-step training, step 1 (the authors' mobilenet/1_step1):
# binary activations (RSign), FP weights in every binary conv. Step 2,
# deeplabv3_reactnet-a-step2-d8_adam-40k_nyudv2-480x640-depth.py, binarizes
# the weights too and starts from this run's last checkpoint.
_base_ = ['./deeplabv3_reactnet-a-d8_adam-40k_nyudv2-480x640-depth.py']
model = dict(backbone=dict(binary_roles=dict(weight_quantizer=False)))
