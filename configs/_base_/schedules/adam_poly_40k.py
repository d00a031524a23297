# Adam + poly decay, 40k iterations (batch 8: about 400 epochs of the 795
# NYUD-v2 training frames), validation every 4k: the segmentation protocol
# (ours).
optimizer = dict(type='Adam', lr=2e-4, weight_decay=1e-4)
# skips (and logs) a step whose loss or gradient is not finite
optim_wrapper = dict(
    type='NonFiniteGuardOptimWrapper', optimizer=optimizer, policy='skip')
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='AtomicCheckpointHook', by_epoch=False, interval=4000),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='MultiTaskVisualizationHook'),
    # logs (loudly if none) and records the backbone's ImageNet checkpoint
    backbone_init=dict(type='BackboneInitHook'))
