"""CMIMMemoryHook sizes the memory banks by the training set (or refuses a
mismatch), and trains through the runner with a bank sized from the data."""
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import BaseDataset, ConcatDataset, RepeatDataset
from mmengine.logging import MMLogger
from mmengine.runner import Runner
from torch import nn

from cmim_dense.engine.hooks import CMIMMemoryHook
from cmim_dense.models.losses import CMIMNCELoss

CONFIGS = Path(__file__).resolve().parents[2] / 'data' / 'configs'


class ListDataset(BaseDataset):
    """``length`` empty samples."""

    def __init__(self, length: int) -> None:
        self.length = length
        super().__init__(serialize_data=False)

    def load_data_list(self) -> list:
        return [dict() for _ in range(self.length)]


def fake_runner(model: nn.Module, dataset) -> SimpleNamespace:
    return SimpleNamespace(
        model=model,
        train_dataloader=SimpleNamespace(dataset=dataset),
        logger=MMLogger.get_instance('cmim_memory_hook_test'))


def two_critics(size) -> nn.ModuleDict:
    return nn.ModuleDict({
        name:
        CMIMNCELoss(embed_dim=4, memory_bank=dict(size=size))
        for name in ('a', 'b')
    })


def test_takes_the_size_from_the_training_set():
    model = two_critics(None)
    CMIMMemoryHook().before_train(fake_runner(model, ListDataset(7)))
    for critic in model.values():
        assert critic.memory.bank_binary.shape == (7, 4)
        assert critic.memory.bank_latent.shape == (7, 4)


def test_refuses_a_mismatch_naming_both_sizes():
    model = two_critics(795)
    with pytest.raises(
            ValueError,
            match=r'a\.memory: memory_bank\.size is '
            r'795 but the training set \(ListDataset\) has 654'):
        CMIMMemoryHook().before_train(fake_runner(model, ListDataset(654)))
    # the right size passes untouched
    before = model['a'].memory.bank_binary.clone()
    CMIMMemoryHook().before_train(fake_runner(model, ListDataset(795)))
    assert torch.equal(model['a'].memory.bank_binary, before)


def test_dataset_wrappers():
    model = two_critics(None)
    repeated = RepeatDataset(ListDataset(5), times=3)  # 15 items, 5 indices
    CMIMMemoryHook().before_train(fake_runner(model, repeated))
    assert model['a'].memory.size == 5
    concat = ConcatDataset([ListDataset(3), ListDataset(4)])
    with pytest.raises(ValueError, match='ConcatDataset'):
        CMIMMemoryHook().before_train(fake_runner(two_critics(7), concat))


def test_models_without_a_bank_are_left_alone():
    model = nn.ModuleDict(dict(critic=CMIMNCELoss()))
    # no dataset needed: it is not even looked at
    CMIMMemoryHook().before_train(fake_runner(model, None))


def tiny_cfg(tmp_path, tiny_seg_dataset, size):
    root = tiny_seg_dataset.make(tmp_path / 'data')  # 4 training images
    cfg = Config.fromfile(str(CONFIGS / 'tiny_seg_cmim.py'))
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
    cfg.model.memory_bank = dict(size=size, num_negatives=2, momentum=0.8)
    cfg.custom_hooks = [
        dict(type='BinarizerScheduleHook'),
        dict(type='CMIMMemoryHook')
    ]
    cfg.work_dir = str(tmp_path / 'work')
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 100
    cfg.default_hooks.checkpoint.interval = 2
    cfg.experiment_name = f'cmim_memory_hook_{uuid.uuid4().hex}'
    cfg.visualizer.name = cfg.experiment_name
    return cfg


def test_runner_trains_with_a_bank_sized_from_the_data(tmp_path,
                                                       tiny_seg_dataset):
    runner = Runner.from_cfg(tiny_cfg(tmp_path, tiny_seg_dataset, None))
    runner.train()
    ckpt = torch.load(tmp_path / 'work' / 'iter_2.pth', weights_only=True)
    state = ckpt['state_dict']
    banks = [k for k in state if k.endswith('memory.bank_binary')]
    assert banks and all(state[k].shape == (4, 16) for k in banks)
    assert all(
        int(state[k.replace('bank_binary', 'normalizer_set')]) == 1
        for k in banks)


def test_runner_refuses_a_bank_of_another_size(tmp_path, tiny_seg_dataset):
    runner = Runner.from_cfg(tiny_cfg(tmp_path, tiny_seg_dataset, 5))
    with pytest.raises(ValueError, match='size is 5 but the training set'):
        runner.train()


CONFIG_DIR = Path(__file__).resolve().parents[3] / 'configs'
RELEASED = (
    CONFIG_DIR / 'nyudv2' /
    'deeplabv3_irnet-r18-d8_cmim-bank-released_adam-40k_nyudv2-'
    '480x640-seg.py')


def test_configs_with_a_bank_register_the_hook():
    """Every leaf config with a memory bank has CMIMMemoryHook and keeps the
    runtime's hooks (a leaf's custom_hooks replace the base's list)."""
    runtime = Config.fromfile(
        str(CONFIG_DIR / '_base_' / 'default_runtime.py')).custom_hooks
    with_bank = []
    for path in sorted(CONFIG_DIR.rglob('*.py')):
        if '_base_' in path.parts or not ('cmim' in path.name or 'memory_bank'
                                          in path.read_text()):
            continue  # not a CMIM config
        cfg = Config.fromfile(str(path))
        if cfg.model.get('memory_bank') is None:
            continue
        with_bank.append(path)
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert 'CMIMMemoryHook' in hooks, path
        assert all(h['type'] in hooks for h in runtime), (path, hooks)
    assert RELEASED in with_bank


def test_released_convention_config():
    model = Config.fromfile(str(RELEASED)).model
    assert model.type == 'CMIM'
    assert model.layers == ['backbone.layer4.1.conv2']  # one layer
    assert (model.loss_weight, model.embed_dim,
            model.temperature) == (3.2, 128, 0.1)
    assert dict(model.memory_bank) == dict(
        size=795,
        num_negatives=4096,
        momentum=0.5,
        positive='bank',
        reduction='sum')

