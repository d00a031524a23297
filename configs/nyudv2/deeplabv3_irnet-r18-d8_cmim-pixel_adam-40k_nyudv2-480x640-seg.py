# CMIM, dense (pixel) form, piled on
#   deeplabv3_irnet-r18-d8_cmim_adam-40k_nyudv2-480x640-seg.py
# per recorded layer, 256 sampled locations per image are contrasted (the
# same image and location is the positive, every other sampled location of
# the global batch a negative) instead of the pooled maps.
_base_ = ['./deeplabv3_irnet-r18-d8_cmim_adam-40k_nyudv2-480x640-seg.py']
model = dict(granularity='pixel', num_locations=256)
