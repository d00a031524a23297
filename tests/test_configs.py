"""Every leaf config in ``configs/`` builds, loads the checkpoints it names
(tiny stand-ins) and trains one step on a tiny input; every dataset config
loads a sample of tiny data in its layout through its pipelines (new configs
are covered automatically)."""
import ast
import copy
import json
from pathlib import Path
from typing import Any, Dict

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample

import cmim_dense  # noqa: F401
from cmim_dense.datasets.synthetic import generate_synthetic_nyudv2

ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = ROOT / 'configs'
# study configs (configs/studies/*.py) list training runs; they are tested by
# tests/test_tools/test_run_study.py, the training configs they name here
LEAF_CONFIGS = sorted(
    p for p in CONFIG_DIR.rglob('*.py')
    if '_base_' not in p.parts and p.parent.name != 'studies')
# the dataset configs (those that evaluate; nyudv2_loaders.py holds parts)
DATASET_CONFIGS = sorted(
    p for p in (CONFIG_DIR / '_base_' / 'datasets').glob('*.py')
    if 'test_evaluator' in p.read_text())
SIZE = 64  # the fake batches are SIZE x SIZE
FRAME = (48, 64)  # (h, w) of the tiny frames
CROP = (16, 24)  # train crop, within the smallest rescale (0.5x)
# the ground truth of a 48x64 test frame after the dataset's crop_region:
# the 425x560 NYUD_MT window (rows 45:470, cols 41:601 of 480x640) scaled
# by 0.1 and rounded half up: rows 5:47, cols 4:60
TEST_GT_SHAPE = dict(
    nyudv2_multitask=(42, 56), nyudv2_seg=FRAME, nyudv2_depth_bts=FRAME)
# what each protocol scores: evaluator type -> (eval_region, aggregation)
PROTOCOL_EVALUATORS = dict(
    nyudv2_multitask={
        'RegionIoUMetric': ('nyud_mt', None),
        'DepthEvalMetric': ('nyud_mt', 'pixel')
    },
    nyudv2_seg={'RegionIoUMetric': ('full', None)},
    nyudv2_depth_bts={'DepthEvalMetric': ('eigen', 'image')})


def test_there_are_configs():
    assert len(LEAF_CONFIGS) >= 30
    assert len(DATASET_CONFIGS) >= 3
    assert {p.stem for p in DATASET_CONFIGS} >= set(TEST_GT_SHAPE)


def fake_batch(num_classes: int = 40, size: int = SIZE,
               batch: int = 2) -> dict:
    """A raw batch (before the data preprocessor) holding every target."""
    samples = []
    for i in range(batch):
        sample = SegDataSample()
        label = torch.randint(0, num_classes, (1, size, size))
        label[:, :4] = 255  # ignored
        depth = torch.rand(1, size, size) * 9 + 0.5
        depth[:, -4:] = 0  # invalid
        sample.gt_sem_seg = PixelData(data=label)
        sample.gt_depth_map = PixelData(data=depth)
        sample.set_metainfo(
            dict(img_shape=(size, size), ori_shape=(size, size),
                 pad_shape=(size, size), sample_idx=i))
        samples.append(sample)
    inputs = [torch.randint(0, 256, (3, size, size), dtype=torch.uint8)
              for _ in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def expected_outputs(arch_cfg) -> dict:
    """Task -> channels of the ``mode='tensor'`` output of the segmentor."""
    if arch_cfg.type == 'MultiTaskEncoderDecoder':
        return {
            task: head.get('num_classes', 1)
            for task, head in arch_cfg.heads.items()
        }
    if arch_cfg.type == 'DenseDepthEstimator':
        return dict(depth=1)
    assert arch_cfg.type == 'EncoderDecoder', arch_cfg.type
    return dict(seg=arch_cfg.decode_head.num_classes)


class StandIns:
    """Tiny stand-in files for every checkpoint a config references.

    The generic rule (so that configs added by others work unchanged):

    - a module config (a dict with ``type``) whose ``init_cfg`` names a
      ``checkpoint``: the state dict of that module built with
      ``init_cfg=None``;
    - any dict holding both ``config`` and ``checkpoint`` (e.g. a CMIM
      teacher): ``{'state_dict': ...}`` of that config's ``model`` (its own
      checkpoints stood in the same way, written to a rewritten copy of the
      config).

    Files are cached by the config they stand in for, so each backbone is
    built once per session.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: Dict[str, Path] = {}
        self.states: Dict[str, Dict[str, torch.Tensor]] = {}

    def _file(self, key: Any, build) -> str:
        name = json.dumps(key, sort_keys=True, default=str)
        if name not in self.files:
            state = build()  # may write stand-ins of its own first
            path = self.folder / f'standin_{len(self.files)}.pth'
            torch.save(state, path)
            self.files[name] = path
            self.states[str(path)] = state.get('state_dict', state)
        return str(self.files[name])

    def _module_state(self, cfg: dict) -> dict:
        module_cfg = copy.deepcopy(cfg)
        module_cfg['init_cfg'] = None
        return MODELS.build(module_cfg).state_dict()

    def _model_state(self, config: str) -> dict:
        path = config if Path(config).is_absolute() else ROOT / config
        cfg = Config.fromfile(str(path))
        model_cfg = self.rewrite(cfg.model.to_dict())
        return dict(state_dict=MODELS.build(model_cfg).state_dict())

    def _config_copy(self, config: str) -> str:
        path = config if Path(config).is_absolute() else ROOT / config
        cfg = Config.fromfile(str(path))
        cfg.model = self.rewrite(cfg.model.to_dict())
        out = self.folder / f'standin_config_{len(self.files)}.py'
        cfg.dump(str(out))
        return str(out)

    def rewrite(self, node: Any) -> Any:
        """``node`` with every referenced checkpoint replaced by a stand-in.

        Args:
            node (Any): A (part of a) config, as plain dicts and lists.

        Returns:
            Any: The rewritten copy.
        """
        if isinstance(node, list):
            return [self.rewrite(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: self.rewrite(v) for k, v in node.items()}
        if isinstance(out.get('config'), str) and 'checkpoint' in out:
            config = node['config']
            out['checkpoint'] = self._file(('model', config),
                                           lambda: self._model_state(config))
            out['config'] = self._config_copy(config)
        init_cfg = node.get('init_cfg')
        cfgs = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        if 'type' in node and any(
                isinstance(c, dict) and c.get('checkpoint') for c in cfgs):
            file = self._file(('module', {
                k: v
                for k, v in node.items() if k != 'init_cfg'
            }), lambda: self._module_state(node))
            out['init_cfg'] = [
                dict(c, checkpoint=file) if isinstance(c, dict)
                and c.get('checkpoint') else c for c in cfgs
            ] if isinstance(init_cfg, list) else dict(
                init_cfg, checkpoint=file)
        return out


@pytest.fixture(scope='module')
def stand_ins(tmp_path_factory):
    init_default_scope('mmseg')
    return StandIns(tmp_path_factory.mktemp('checkpoints'))


@pytest.mark.parametrize(
    'path', LEAF_CONFIGS, ids=[p.stem for p in LEAF_CONFIGS])
def test_config_builds_and_trains_one_step(path, stand_ins):
    cfg = Config.fromfile(str(path))
    if 'model' not in cfg:
        pytest.skip(f'{path.name} defines no model (not a model config)')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = stand_ins.rewrite(cfg.model.to_dict())
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.train()
    # a CMIM config wraps the segmentor
    is_cmim = cfg.model.type == 'CMIM'
    arch_cfg = cfg.model.architecture if is_cmim else cfg.model
    segmentor = model.architecture if is_cmim else model
    # a backbone that names a checkpoint was initialised from it
    backbone_init = (model_cfg['architecture'] if is_cmim else
                     model_cfg)['backbone'].get('init_cfg')
    if isinstance(backbone_init, dict) and 'checkpoint' in backbone_init:
        loaded = stand_ins.states[backbone_init['checkpoint']]
        own = segmentor.backbone.state_dict()
        assert set(loaded) == set(own)
        assert all(torch.equal(own[k], v) for k, v in loaded.items())
    expected = expected_outputs(arch_cfg)
    data = model.data_preprocessor(fake_batch(), True)
    # depth is padded with 0 (invalid), never with the label's 255
    assert all(s.gt_depth_map.data.max() < 10 for s in data['data_samples'])
    losses = model(**data, mode='loss')
    if is_cmim:
        assert 'loss_cmim' in losses
    if arch_cfg.type == 'MultiTaskEncoderDecoder':
        assert any(k.startswith('seg.loss') for k in losses)
        assert any(k.startswith('depth.loss') for k in losses)
    total = sum(v for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    grads = [
        p.grad for p in segmentor.backbone.parameters() if p.requires_grad
    ]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    model.eval()
    with torch.no_grad():
        outputs = model(data['inputs'], mode='tensor')
    if not isinstance(outputs, dict):
        (task, ) = expected
        outputs = {task: outputs}
    assert {t: o.shape[:2] for t, o in outputs.items()} == {
        t: (2, c) for t, c in expected.items()
    }


def test_every_protocol_leaf_starts_from_imagenet_weights():
    """Each NYUD-v2 leaf's backbone names an ImageNet checkpoint file."""
    leaves = sorted((CONFIG_DIR / 'nyudv2').glob('*.py'))
    assert leaves
    for path in leaves:
        cfg = Config.fromfile(str(path))
        arch = cfg.model.get('architecture', cfg.model)
        init = arch.backbone.get('init_cfg')
        assert init is not None and init.type == 'PretrainedBackbone', path
        assert init.checkpoint.startswith('checkpoints/'), path
        assert init.source, path


# per task the anchor leaf: the only one that lists the model, dataset,
# schedule and runtime bases (configs/README.md, "Anchors and leaves")
ANCHORS = dict(
    seg='deeplabv3_irnet-r18-d8_adam-40k_nyudv2-480x640-seg.py',
    depth='deeplabv3_irnet-r18-d8_adamw-50e_nyudv2-bts-416x544-depth.py',
    multitask=('deeplabv3_irnet-r18-d8_adam-100e_nyudv2-mtl-480x640-'
               'multitask.py'))


def _base_list(path: Path) -> list:
    """The literal ``_base_`` list of a config file."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and node.targets[0].id == '_base_':
            bases = ast.literal_eval(node.value)
            return [bases] if isinstance(bases, str) else list(bases)
    return []


def test_nyudv2_leaves_inherit_their_task_anchor():
    """Every other NYUD-v2 leaf reaches its task's anchor through leaves of
    the same recipe and adds at most a backbone base file."""
    folder = CONFIG_DIR / 'nyudv2'
    for task, anchor in ANCHORS.items():
        assert [Path(b).parent.name for b in _base_list(folder / anchor)] == [
            'models', 'datasets', 'schedules', '_base_'], task
    for path in sorted(folder.glob('*.py')):
        if path.name in ANCHORS.values():
            continue
        parent, *others = _base_list(path)
        recipe = '_'.join(path.name.split('_')[-2:])
        assert parent.startswith('./') and parent.endswith(recipe), path
        assert all(
            b.startswith('../_base_/models/backbones/') for b in others), path
        chain = path
        while chain.name not in ANCHORS.values():
            chain = folder / _base_list(chain)[0]
        assert chain.name.endswith(recipe), path


@pytest.fixture(scope='module')
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('nyudv2')
    generate_synthetic_nyudv2(
        str(root), num_frames=4, height=FRAME[0], width=FRAME[1], seed=0)
    return str(root)


@pytest.fixture(scope='module')
def mono_root(tmp_path_factory):
    """A tiny monocular-depth layout (JPEG images, uint16 mm PNG depth)."""
    root = tmp_path_factory.mktemp('nyu_mono')
    rng = np.random.default_rng(0)
    for split in ('train', 'test'):
        (root / 'images' / split).mkdir(parents=True)
        (root / 'annotations' / split).mkdir(parents=True)
        for i in range(3):
            img = rng.integers(0, 256, (*FRAME, 3), dtype=np.uint8)
            depth = rng.integers(500, 9000, FRAME, dtype=np.uint16)
            cv2.imwrite(str(root / 'images' / split / f'room_{i:05d}.jpg'),
                        img)
            cv2.imwrite(
                str(root / 'annotations' / split / f'room_{i:05d}.png'),
                depth)
    return str(root)


def tiny_train_pipeline(pipeline):
    """The train pipeline with scales and crop for the tiny frames.

    Returns:
        tuple: The (h, w) of the packed training input.
    """
    shape = FRAME
    for step in pipeline:
        if step.type in ('RandomResize', 'DepthAwareRandomResize'):
            if step.get('scale') is not None:
                step.scale = FRAME[::-1]
        elif step.type == 'RandomCrop':
            step.crop_size = CROP
            shape = CROP
        elif step.type == 'Resize':  # a fixed resize of the crop
            step.scale = FRAME[::-1]
            shape = FRAME
    return shape


@pytest.mark.parametrize(
    'path', DATASET_CONFIGS, ids=[p.stem for p in DATASET_CONFIGS])
def test_dataset_config_loads_tiny_data(path, synthetic_root, mono_root):
    cfg = Config.fromfile(str(path))
    init_default_scope('mmseg')
    tasks = cfg.tasks
    train_cfg = cfg.train_dataloader.dataset
    root = mono_root if train_cfg.type == 'NYUDv2MonoDepthDataset' else \
        synthetic_root
    train_cfg.data_root = root
    train_shape = tiny_train_pipeline(train_cfg.pipeline)
    train_set = DATASETS.build(train_cfg)
    assert train_set.tasks == tuple(tasks)
    sample = train_set[1]
    assert sample['inputs'].shape == (3, *train_shape)
    data_sample = sample['data_samples']
    assert data_sample.sample_idx == 1
    assert ('gt_sem_seg' in data_sample) == ('seg' in tasks)
    assert ('gt_depth_map' in data_sample) == ('depth' in tasks)
    for key in ('gt_sem_seg', 'gt_depth_map'):
        if key in data_sample:
            assert data_sample.get(key).shape == train_shape

    # test pipeline: the image at 480x640, the ground truth untouched
    # (or cut to the protocol's window)
    test_cfg = cfg.test_dataloader.dataset
    test_cfg.data_root = root
    test_set = DATASETS.build(test_cfg)
    sample = test_set[0]
    assert sample['inputs'].shape == (3, 480, 640)
    data_sample = sample['data_samples']
    gt_shape = TEST_GT_SHAPE.get(path.stem, FRAME)
    assert data_sample.ori_shape == gt_shape
    for key in ('gt_sem_seg', 'gt_depth_map'):
        if key in data_sample:
            assert data_sample.get(key).shape == gt_shape
    evaluators = cfg.test_evaluator
    assert {e.type for e in evaluators} == (
        {'RegionIoUMetric'} if 'seg' in tasks else set()) | (
            {'DepthEvalMetric'} if 'depth' in tasks else set())
    if path.stem in PROTOCOL_EVALUATORS:
        assert {
            e.type: (e.eval_region, e.get('aggregation'))
            for e in evaluators
        } == PROTOCOL_EVALUATORS[path.stem]
