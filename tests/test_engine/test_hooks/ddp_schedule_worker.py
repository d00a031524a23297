"""Run by torchrun from test_binarizer_schedule_hook_ddp.py (2 CPU ranks)."""
import sys

import torch
import torch.distributed as dist
from mmengine.runner import Runner
from toy_binary_net import runner_cfg

import cmim_dense  # noqa: F401


def main(work_dir: str) -> None:
    cfg = runner_cfg(work_dir, 'rbnn')
    cfg.update(
        launcher='pytorch',
        env_cfg=dict(dist_cfg=dict(backend='gloo')),
        cfg=dict(model_wrapper_cfg=dict(type='MMDistributedDataParallel')))
    runner = Runner(**cfg)
    runner.train()
    model = runner.model.module
    state = {k: v for k, v in model.state_dict().items()}
    torch.save(state, f'{work_dir}/rank{dist.get_rank()}.pt')


if __name__ == '__main__':
    main(sys.argv[1])
