# MTL-PyTorch's NYUD schedule: Adam (lr 1e-4, weight decay 1e-4), poly decay
# (power 0.9), 100 epochs of the 795 training frames at batch 8 (99
# iterations per epoch, drop_last): 9900 iterations. MTL-PyTorch steps the
# poly decay per epoch, we step it per iteration; validation every 10 epochs
# (MTL-PyTorch evaluates the last 10 epochs). Hooks, loops and the
# non-finite guard as in adam_poly_40k.py.
_base_ = ['./adam_poly_40k.py']
epoch_iters = 99
max_iters = 100 * epoch_iters
optimizer = dict(type='Adam', lr=1e-4, weight_decay=1e-4)
optim_wrapper = dict(optimizer=optimizer)
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=10 * epoch_iters)
default_hooks = dict(checkpoint=dict(interval=10 * epoch_iters))
