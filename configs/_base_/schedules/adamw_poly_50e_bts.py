# BTS's NYU schedule: AdamW (lr 1e-4, eps 1e-6, weight decay 1e-2 on the
# encoder only), poly decay (power 0.9) to lr / 10, 50 epochs at batch 4.
# With the 24,231 frames of BTS's training list: 6058 iterations per epoch,
# 302,900 iterations (set epoch_iters for another frame count).
epoch_iters = 6058
max_iters = 50 * epoch_iters
optimizer = dict(type='AdamW', lr=1e-4, eps=1e-6, weight_decay=1e-2)
# skips (and logs) a step whose loss or gradient is not finite; no weight
# decay on the heads (BTS decays the encoder only)
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper',
    optimizer=optimizer,
    policy='skip',
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
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=5 * epoch_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False,
        interval=5 * epoch_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook'),
    # logs (loudly if none) and records the backbone's ImageNet checkpoint
    backbone_init=dict(type='BackboneInitHook'))
