"""A tiny binary classifier and dataset for runner-level tests."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from cmim_dense.models import BinaryConv2d


class ToyBinaryNet(BaseModel):
    """FP stem, two binary convs, FP classifier."""

    def __init__(self, binarizer: str = 'irnet') -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv1 = BinaryConv2d(8, 8, 3, padding=1, binarizer=binarizer)
        self.conv2 = BinaryConv2d(8, 8, 3, padding=1, binarizer=binarizer)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 2)

    def forward(self, inputs, labels=None, mode='tensor'):
        x = self.bn(self.conv2(self.conv1(self.stem(inputs))))
        logits = self.head(x.mean((2, 3)))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        return logits


class ToyDataset(Dataset):
    """Deterministic random images with binary labels."""

    def __init__(self, length: int = 8) -> None:
        gen = torch.Generator().manual_seed(0)
        self.images = torch.randn(length, 3, 8, 8, generator=gen)
        self.labels = torch.randint(0, 2, (length, ), generator=gen)
        self.metainfo = dict()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, idx: int) -> dict:
        return dict(inputs=self.images[idx], labels=self.labels[idx])


def runner_cfg(work_dir: str, binarizer: str = 'irnet', **train_cfg) -> dict:
    """Config of a tiny runner training :class:`ToyBinaryNet`."""
    train_cfg = train_cfg or dict(by_epoch=False, max_iters=4)
    return dict(
        model=ToyBinaryNet(binarizer),
        work_dir=work_dir,
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=train_cfg,
        custom_hooks=[dict(type='BinarizerScheduleHook')],
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=2,
                by_epoch=train_cfg.get('by_epoch', False)),
            logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmseg',
        log_level='WARNING',
        randomness=dict(seed=0),
        visualizer=dict(type='Visualizer', vis_backends=[]))
