# Bi-Real ResNet-34, output stride 8.
_base_ = ['./bireal-r18.py']
backbone = dict(depth=34)
