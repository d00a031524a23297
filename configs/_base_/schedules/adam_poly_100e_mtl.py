# MTL-PyTorch's NYUD schedule: Adam (lr 1e-4, weight decay 1e-4), poly decay
# (power 0.9), 100 epochs of the 795 training frames at batch 8 (99
# iterations per epoch, drop_last): 9900 iterations. MTL-PyTorch steps the
# poly decay per epoch, we step it per iteration; validation every 10 epochs
# (MTL-PyTorch evaluates the last 10 epochs).
epoch_iters = 99
max_iters = 100 * epoch_iters
optimizer = dict(type='Adam', lr=1e-4, weight_decay=1e-4)
# skips (and logs) a step whose loss or gradient is not finite
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', optimizer=optimizer, policy='skip')
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=max_iters,
        by_epoch=False)
]
train_cfg = dict(
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=10 * epoch_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False,
        interval=10 * epoch_iters),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook'),
    # logs (loudly if none) and records the backbone's ImageNet checkpoint
    backbone_init=dict(type='BackboneInitHook'))
