"""``tools/deploy/convert_engine.py`` and ``infer.py`` on a briefly trained
quickstart model (CMIM-wrapped IR-Net multi-task)."""
import importlib.util
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from cmim_dense.deploy import load_deploy_model, predict_image
from cmim_dense.deploy.engine_blocks import EngineBasicBlock
from cmim_dense.models.utils import pack_checkpoint
from cmim_dense.models.utils.binary_packing import packable_layers
from cmim_dense.registry import MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = REPO_ROOT / 'configs' / 'quickstart.py'


def load_tool(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        'cmim_dense_tool_' + Path(path).stem, REPO_ROOT / 'tools' / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """A quickstart CMIM model after 3 Adam steps on random 32x40 frames."""
    tmp = tmp_path_factory.mktemp('engine_tools')
    cfg = Config.fromfile(str(QUICKSTART))
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    wrapper = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    samples = []
    for _ in range(2):
        sample = SegDataSample(
            metainfo=dict(
                img_shape=(32, 40), ori_shape=(32, 40), pad_shape=(32, 40)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 40, (1, 32, 40)))
        sample.gt_depth_map = PixelData(data=torch.rand(1, 32, 40) * 5 + 0.5)
        samples.append(sample)
    data = dict(
        inputs=[torch.randint(0, 256, (3, 32, 40), dtype=torch.uint8)] * 2,
        data_samples=samples)
    model.train()
    for _ in range(3):
        model.train_step(data, wrapper)
    checkpoint = tmp / 'cmim.pth'
    torch.save(
        dict(state_dict=model.state_dict(), meta=dict(cfg=cfg.pretty_text)),
        checkpoint)
    image = tmp / 'frame.png'
    cv2.imwrite(
        str(image),
        np.random.default_rng(0).integers(0, 256, (36, 44, 3), dtype=np.uint8))
    return dict(
        tmp=tmp,
        cfg=cfg,
        model=model.eval(),
        checkpoint=checkpoint,
        image=image)


def test_convert_and_infer_same_predictions(trained, capsys):
    out = trained['tmp'] / 'engine.pth'
    sizes = load_tool('deploy/convert_engine.py').main(
        [str(trained['checkpoint']),
         str(out), '--verify-shape', '32', '48'])
    assert 'verified on the' in capsys.readouterr().out
    binary = packable_layers(trained['model'].architecture)
    assert sizes['layers'] == len(binary) > 10
    assert sizes['packed_bytes'] < sizes['fp32_bytes']
    pred_png, depth_png = trained['tmp'] / 'p.png', trained['tmp'] / 'd.png'
    got = load_tool('deploy/infer.py').main([
        str(QUICKSTART),
        str(out),
        str(trained['image']), '--out',
        str(pred_png), '--depth-out',
        str(depth_png), '--threads', '1'
    ])
    image = cv2.imread(str(trained['image']))
    ref = predict_image(trained['model'].architecture, image)
    assert np.array_equal(got['seg'], ref['seg'])
    np.testing.assert_allclose(
        got['depth'], ref['depth'], rtol=1e-4, atol=1e-4)
    assert np.array_equal(
        cv2.imread(str(pred_png), cv2.IMREAD_UNCHANGED),
        ref['seg'].astype(np.uint8))
    depth = cv2.imread(str(depth_png), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == image.shape[:2]


def test_packed_cmim_checkpoint_loads_into_the_architecture(trained):
    packed = trained['tmp'] / 'packed_cmim.pth'
    pack_checkpoint(trained['model'], str(packed))  # names 'architecture.*'
    engine = load_deploy_model(trained['cfg'], str(packed))
    assert isinstance(engine.backbone.layer1[0], EngineBasicBlock)
    image = cv2.imread(str(trained['image']))
    ref = predict_image(trained['model'].architecture, image)
    assert np.array_equal(predict_image(engine, image)['seg'], ref['seg'])


def test_convert_refuses_a_mismatching_config(trained):
    fp_config = REPO_ROOT / 'configs' / 'nyudv2' / \
        'deeplabv3_fp-r18-d8_adam-40k_nyudv2-480x640-seg.py'
    with pytest.raises(SystemExit, match='cmim.pth does not fit'):
        load_tool('deploy/convert_engine.py').main([
            str(trained['checkpoint']),
            str(trained['tmp'] / 'x.pth'), '--config',
            str(fp_config)
        ])


def test_test_tool_engine_option(tmp_path, tiny_seg_dataset):
    """``tools/test.py --engine`` (binary backbone and binary head convs)
    writes the PyTorch model's predicted labels."""
    import os
    import subprocess
    import sys
    config = REPO_ROOT / 'tests' / 'data' / 'configs' / 'tiny_seg.py'
    cfg = Config.fromfile(str(config))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.train()
    with torch.no_grad():  # non-trivial BN statistics
        model(torch.randn(2, 3, 32, 32) * 2 + 0.3, mode='tensor')
    model.eval()
    checkpoint = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), checkpoint)
    data_root = tiny_seg_dataset.make(tmp_path / 'data', {
        'train': 1,
        'val': 2
    })
    out_dir = tmp_path / 'preds'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (str(REPO_ROOT), env.get('PYTHONPATH', '')) if p)
    env.pop('LOCAL_RANK', None)
    proc = subprocess.run([
        sys.executable,
        str(REPO_ROOT / 'tools' / 'test.py'),
        str(config),
        str(checkpoint), '--engine', '--work-dir',
        str(tmp_path / 'work'), '--out',
        str(out_dir), '--cfg-options', f'test_dataloader.dataset.data_root='
        f'{data_root}'
    ],
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'modules converted, 0 binary layers left' in proc.stdout
    images = sorted((data_root / 'img_dir' / 'val').glob('*.png'))
    assert len(images) == 2
    for path in images:
        ref = predict_image(model, cv2.imread(str(path)))['seg']
        got = cv2.imread(str(out_dir / path.name), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(got, ref.astype(np.uint8)), path.name
