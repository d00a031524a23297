# IR-Net ResNet-34, output stride 8.
_base_ = ['./irnet-r18.py']
backbone = dict(depth=34)
