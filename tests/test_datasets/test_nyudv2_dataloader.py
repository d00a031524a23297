"""The ``.mat`` dataset in a real DataLoader: 0, 2 and persistent workers."""
import os

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS, MODELS
from torch.utils.data import DataLoader

from cmim_dense.datasets import NYUDv2FormatError, nyudv2_mat_file

META_KEYS = ('img_path', 'ori_shape', 'img_shape', 'flip', 'sample_idx', 'pid',
             'handle_pid')


def record_process(results: dict) -> dict:
    """Pipeline step: which process loaded the frame, whose handle it used.

    Args:
        results (dict): Loaded frame of the labeled ``.mat``.

    Returns:
        dict: ``results`` with ``pid`` and ``handle_pid``.
    """
    results['pid'] = os.getpid()
    results['handle_pid'] = nyudv2_mat_file._HANDLES[results['mat_path']][0]
    return results


def _dataset(root):
    """12 training frames with a pipeline that records the process."""
    return DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(root),
            indices=12,
            pipeline=[
                dict(type='LoadNYUDv2Image'),
                dict(type='LoadNYUDv2Annotations'), record_process,
                dict(type='PackSegInputs', meta_keys=META_KEYS)
            ]))


@pytest.mark.parametrize('workers, persistent', [(0, False), (2, False),
                                                 (2, True)])
def test_workers_read_their_own_handles(quick_set, workers, persistent):
    dataset = _dataset(quick_set['root'])
    reference = [dataset[i] for i in range(len(dataset))]  # opens a handle
    main_pid = os.getpid()
    loader = DataLoader(
        dataset,
        batch_size=4,
        num_workers=workers,
        persistent_workers=persistent,
        collate_fn=pseudo_collate,
        shuffle=False)
    worker_pids = []
    for _ in range(2 if persistent else 1):
        seen = []
        pids = set()
        for batch in loader:
            for inputs, sample in zip(batch['inputs'], batch['data_samples']):
                idx = sample.metainfo['sample_idx']
                ref = reference[idx]
                assert torch.equal(inputs, ref['inputs'])
                assert torch.equal(sample.gt_sem_seg.data,
                                   ref['data_samples'].gt_sem_seg.data)
                assert torch.equal(sample.gt_depth_map.data,
                                   ref['data_samples'].gt_depth_map.data)
                assert sample.metainfo['handle_pid'] == sample.metainfo['pid']
                pids.add(sample.metainfo['pid'])
                seen.append(idx)
        assert seen == list(range(len(dataset)))
        worker_pids.append(pids)
    if workers:
        assert main_pid not in worker_pids[0] and len(worker_pids[0]) == 2
    else:
        assert worker_pids[0] == {main_pid}
    if persistent:
        assert worker_pids[0] == worker_pids[1]  # same workers, same handles
    # the main process's handle survived the workers
    again = dataset[3]
    assert again['data_samples'].metainfo['handle_pid'] == main_pid
    assert torch.equal(again['inputs'], reference[3]['inputs'])


def test_sample_idx_reaches_the_model_inputs(quick_set):
    dataset = _dataset(quick_set['root'])
    loader = DataLoader(
        dataset,
        batch_size=3,
        collate_fn=pseudo_collate,
        shuffle=True,
        generator=torch.Generator().manual_seed(0))
    preprocessor = MODELS.build(
        dict(
            type='MultiTaskDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            size=(128, 160)))
    batch = next(iter(loader))
    out = preprocessor(batch, training=True)
    assert out['inputs'].shape == (3, 3, 128, 160)
    idx = [s.metainfo['sample_idx'] for s in out['data_samples']]
    assert sorted(set(idx)) == sorted(idx) and idx != [0, 1, 2]
    for sample, i in zip(out['data_samples'], idx):
        depth = sample.gt_depth_map.data
        assert depth.shape == (1, 128, 160)
        assert torch.all(depth[:, 120:] == 0)  # padded rows: invalid
        assert torch.all(sample.gt_sem_seg.data[:, 120:] == 255)
        ref = dataset[i]['data_samples'].gt_depth_map.data
        assert torch.equal(depth[:, :120], ref)
    assert np.isfinite(out['inputs'].numpy()).all()


def test_worker_errors_keep_their_type_and_message(tmp_path, write_mat):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 895, (4, 6, 8)).astype(np.uint16)
    labels[3, 0, 0] = 900
    path = write_mat(
        tmp_path,
        images=rng.integers(0, 256, (4, 6, 8, 3), np.uint8),
        depths=rng.uniform(1, 5, (4, 6, 8)).astype(np.float32),
        labels=labels)
    dataset = DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(tmp_path),
            split=None,
            pipeline=[
                dict(type='LoadNYUDv2Image'),
                dict(type='LoadNYUDv2Annotations')
            ]))
    loader = DataLoader(
        dataset, batch_size=2, num_workers=2, collate_fn=pseudo_collate)
    iterator = iter(loader)
    message = None
    try:
        for _ in iterator:
            pass
    except NYUDv2FormatError as err:  # re-raised with its type in the main
        message = str(err)
    del iterator  # frees the traceback's frames: the workers stop now
    assert message is not None
    assert str(path) in message
    assert "field 'labels', frame 4 (index 3)" in message
