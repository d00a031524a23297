"""Scores of trivial predictors on a config's test set, for comparison.

    python tools/analysis_tools/trivial_baselines.py CONFIG [--json OUT]

- segmentation: the majority class of the training labels, everywhere;
- depth: the mean valid training depth, everywhere.

Both are scored by the config's own test evaluator (the same ``IoUMetric``
and ``DepthEvalMetric`` settings as the model), so a trained model's
numbers can be compared directly: a useful model has a higher mIoU and a
lower RMSE.
"""
import argparse
import importlib.util
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(
        osp.abspath(__file__)))))

import cmim_dense  # noqa: E402,F401
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.evaluator import Evaluator  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402

IGNORE_INDEX = 255


def train_statistics(dataset) -> Dict[str, float]:
    """Majority class and mean valid depth of the training samples."""
    counts = np.zeros(256, dtype=np.int64)
    depth_sum, depth_count = 0.0, 0
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        if 'gt_sem_seg' in sample:
            labels = sample.gt_sem_seg.data.numpy().ravel()
            counts += np.bincount(labels, minlength=256)[:256]
        if 'gt_depth_map' in sample:
            depth = sample.gt_depth_map.data.numpy()
            valid = depth > 0
            depth_sum += float(depth[valid].sum())
            depth_count += int(valid.sum())
    counts[IGNORE_INDEX] = 0
    stats = {}
    if counts.any():
        stats['majority_class'] = int(counts.argmax())
    if depth_count:
        stats['mean_depth'] = depth_sum / depth_count
    return stats


def evaluate_constant(dataset, evaluator_cfg, stats: Dict[str, float]
                      ) -> Dict[str, float]:
    """Run the test evaluator on constant predictions."""
    evaluator = Evaluator(evaluator_cfg)
    evaluator.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        if 'gt_sem_seg' in sample and 'majority_class' in stats:
            gt = sample.gt_sem_seg.data
            sample.pred_sem_seg = PixelData(
                data=torch.full_like(gt, stats['majority_class']))
        if 'gt_depth_map' in sample and 'mean_depth' in stats:
            gt = sample.gt_depth_map.data
            sample.pred_depth_map = PixelData(
                data=torch.full_like(gt, stats['mean_depth']))
        evaluator.process([sample.to_dict()])
    return evaluator.evaluate(len(dataset))


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--json', help='write the scores here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    stats = train_statistics(train_set)
    scores = evaluate_constant(test_set, cfg.test_evaluator, stats)
    result = {
        k: v.item() if hasattr(v, 'item') else v
        for k, v in dict(stats, **scores).items()
    }
    for key, value in result.items():
        print(f'{key}: {value:.4f}' if isinstance(value, float) else
              f'{key}: {value}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == '__main__':
    main()
