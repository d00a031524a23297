# The FP counterpart of IR-Net ResNet-18: the same network with FP convs
# (the FP rows of the experiments), output stride 8, initialised from
# torchvision's ImageNet ResNet-18 (keys renamed on load: downsample.0/1 ->
# downsample.conv/bn; fc.* unused). An override of the default backbone
# (irnet-r18.py), naming only what differs; a leaf applies it with
# model = dict(backbone={{_base_.backbone}}). Same stage widths.
backbone = dict(
    binarizer=None,
    init_cfg=dict(
        checkpoint='checkpoints/resnet18-torchvision.pth',
        source=('torchvision ResNet-18 ImageNet weights (IMAGENET1K_V1, '
                'resnet18-f37072fd.pth) saved under this name, see '
                'docs/nyudv2_protocols.md#initialisation')))
