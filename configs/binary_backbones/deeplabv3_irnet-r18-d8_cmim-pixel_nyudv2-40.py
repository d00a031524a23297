# CMIM, dense (pixel) form, piled on deeplabv3_irnet-r18-d8_cmim_nyudv2-40.py:
# 256 sampled locations per image and recorded layer instead of pooled maps.
_base_ = ['./deeplabv3_irnet-r18-d8_cmim_nyudv2-40.py']
model = dict(granularity='pixel', num_locations=256)
