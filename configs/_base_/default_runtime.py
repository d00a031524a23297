# Runtime shared by every experiment config.
default_scope = 'mmseg'
custom_imports = dict(imports=['cmim_dense'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # NCCL on GPUs; CPU processes: --cfg-options env_cfg.dist_cfg.backend=gloo
    dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='MultiTaskLocalVisualizer', vis_backends=vis_backends,
    name='visualizer')
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
custom_hooks = [
    # drives the binarizers' progress-dependent state (IR-Net/RBNN t, k, ...)
    dict(type='BinarizerScheduleHook'),
    # saves/restores every rank's RNG states so that a resumed run
    # continues exactly (dropout, CMIM's negatives)
    dict(type='RNGStateHook'),
    # SIGTERM / SIGUSR1: finish the step, checkpoint, exit 75 (--resume)
    dict(type='PreemptionHook'),
    # CMIM memory banks: size from the training set, broadcast from rank 0
    # (does nothing for models without a bank)
    dict(type='CMIMMemoryHook'),
]
