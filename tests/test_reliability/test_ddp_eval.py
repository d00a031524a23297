"""Two gloo processes on CPU (torchrun): evaluation covers the whole test set
exactly once when its size (3) is not divisible by the world size (2), and
the parameters stay identical across the ranks while training."""
import importlib.util
import json
import pickle
from pathlib import Path
from types import ModuleType
from typing import Any, Dict

import pytest
import torch

import cmim_dense  # noqa: F401

HERE = Path(__file__).resolve().parent
WORKER = HERE / 'ddp_eval_worker.py'
NUM_VAL = 3  # odd: DefaultSampler pads it to 4 for two ranks
BN_STATS = ('running_mean', 'running_var', 'num_batches_tracked')


def _worker() -> ModuleType:
    spec = importlib.util.spec_from_file_location('ddp_eval_worker', WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dumped_images(path: Path) -> list:
    with open(path, 'rb') as file:  # our own file, written by DumpResults
        results = pickle.load(file)
    return [Path(r['img_path']).name for r in results]


@pytest.fixture(scope='module')
def runs(tmp_path_factory: pytest.TempPathFactory,
         tiny_seg_dataset: ModuleType, run_torchrun) -> Dict[str, Any]:
    """The 2-rank run (torchrun) and the single-process reference."""
    tmp = tmp_path_factory.mktemp('ddp_eval')
    data_root = tiny_seg_dataset.make(tmp / 'data', {
        'train': 4,
        'val': NUM_VAL
    })
    worker = _worker()
    # a fixed model to evaluate, built from the config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = worker.make_cfg(str(data_root), str(tmp), 'ddp_build')
    model = MODELS.build(cfg.model)
    model.init_weights()
    checkpoint = tmp / 'model.pth'
    torch.save(dict(meta={}, state_dict=model.state_dict()), checkpoint)

    ddp_dir = tmp / 'ddp'
    ddp_dir.mkdir()
    run_torchrun(WORKER, data_root, ddp_dir, checkpoint)

    single_dir = tmp / 'single'
    single_dir.mkdir()
    single = worker.evaluate(
        str(data_root), str(single_dir), str(checkpoint), 'single_test')
    return dict(
        ddp_dir=ddp_dir,
        single_dir=single_dir,
        single={
            k: float(v)
            for k, v in single.items()
        },
        ddp=json.loads((ddp_dir / 'metrics.json').read_text()))


def test_two_rank_metric_equals_single_process(runs: Dict[str, Any]) -> None:
    world = json.loads((runs['ddp_dir'] / 'world.json').read_text())
    assert world['world_size'] == 2
    assert 0.0 < runs['single']['mIoU'] < 100.0
    assert runs['ddp'] == runs['single']


def test_each_test_sample_collected_exactly_once(runs: Dict[str, Any]) -> None:
    """The sampler pads 3 samples to 4 for two ranks; the evaluator must
    drop the padding: 3 results, each image once, as in one process."""
    expected = [f'{i:03d}.png' for i in range(NUM_VAL)]
    single = _dumped_images(runs['single_dir'] / 'dump.pkl')
    ddp = _dumped_images(runs['ddp_dir'] / 'dump.pkl')
    assert sorted(single) == expected
    assert sorted(ddp) == expected  # no duplicate, none dropped


def test_parameters_identical_across_ranks(runs: Dict[str, Any]) -> None:
    states = [
        torch.load(runs['ddp_dir'] / f'rank{r}.pt', weights_only=True)
        for r in (0, 1)
    ]
    before, after = states[0]['before'], states[0]['after']
    assert after.keys() == states[1]['after'].keys()
    compared = changed = 0
    for key, value in after.items():
        if key.endswith(BN_STATS):
            continue  # BN statistics are per rank (no SyncBN on CPU)
        assert torch.equal(value, states[1]['after'][key]), key
        compared += 1
        changed += not torch.equal(value, before[key])
    assert compared > 20
    assert changed > 0, 'training changed no parameter'


def test_padding_would_change_the_metric(runs: Dict[str, Any]) -> None:
    """Guard of the test itself: counting the padded sample (image 000)
    twice would give another mIoU, so the equality above detects it."""
    from mmseg.evaluation import IoUMetric
    with open(runs['single_dir'] / 'dump.pkl', 'rb') as file:
        results = pickle.load(file)
    by_name = {Path(r['img_path']).name: r for r in results}
    padded = [by_name[n] for n in ('000.png', '001.png', '002.png', '000.png')]
    metric = IoUMetric(iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=('a', 'b', 'c'))
    metric.process({}, padded)
    duplicated = metric.compute_metrics(metric.results)
    assert float(duplicated['mIoU']) != runs['single']['mIoU']
