# The FP counterpart of IR-Net ResNet-18: the same network with FP convs
# (the FP rows of the experiments), output stride 8.
_base_ = ['./irnet-r18.py']
backbone = dict(binarizer=None)
