# BTS's NYU schedule: AdamW (lr 1e-4, eps 1e-6, weight decay 1e-2 on the
# encoder only), poly decay (power 0.9) to lr / 10, 50 epochs at batch 4.
# With the 24,231 frames of BTS's training list: 6058 iterations per epoch,
# 302,900 iterations (set epoch_iters for another frame count). Hooks,
# loops and the non-finite guard as in adam_poly_40k.py.
_base_ = ['./adam_poly_40k.py']
epoch_iters = 6058
max_iters = 50 * epoch_iters
optimizer = dict(
    _delete_=True, type='AdamW', lr=1e-4, eps=1e-6, weight_decay=1e-2)
optim_wrapper = dict(
    optimizer=optimizer,
    # no weight decay on the heads (BTS decays the encoder only)
    paramwise_cfg=dict(
        custom_keys=dict(
            decode_head=dict(decay_mult=0.0),
            auxiliary_head=dict(decay_mult=0.0))))
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-5,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=max_iters, val_interval=5 * epoch_iters)
default_hooks = dict(checkpoint=dict(interval=5 * epoch_iters))
