# ReActNet-A (MobileNetV1-shaped, RSign + RPReLU), output stride 8.
backbone = dict(
    type='ReActNet',
    binarizer='reactnet',
    strides=(2, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True))
# channels of stage 4 (decode head input) and stage 3 (auxiliary head input)
head_in_channels = 1024
aux_in_channels = 512
