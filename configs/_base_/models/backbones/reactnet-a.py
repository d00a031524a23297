# ReActNet-A (MobileNetV1-shaped, RSign + RPReLU), output stride 8: replaces
# the default backbone (_delete_); wider than it, so a leaf applies both the
# backbone and the heads' in_channels (configs/README.md).
backbone = dict(
    _delete_=True,
    type='ReActNet',
    binarizer='reactnet',
    strides=(2, 2, 1, 1),
    dilations=(1, 1, 2, 4),
    out_indices=(0, 1, 2, 3),
    norm_cfg=dict(type='BN', requires_grad=True),
    # ImageNet initialisation; a missing file stops with where to get it
    # (nothing is downloaded). From scratch on purpose:
    # --cfg-options model.backbone.init_cfg=None (logged loudly)
    init_cfg=dict(
        type='PretrainedBackbone',
        checkpoint='checkpoints/reactnet-a-imagenet_cmim-dense.pth',
        source=('the ImageNet ReActNet-A of its authors, converted by '
                'tools/model_converters/bnn2cmim.py --arch reactnet-a '
                '(see docs/pretrained.md)')))
# channels of stage 4 (decode head input) and stage 3 (auxiliary head input)
head_in_channels = 1024
aux_in_channels = 512
