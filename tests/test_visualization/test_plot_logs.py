"""``tools/analysis_tools/plot_logs.py`` on synthetic mmengine logs."""
import importlib.util
import json
from pathlib import Path

import pytest
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parents[2]


def _tool():
    spec = importlib.util.spec_from_file_location(
        'cmim_dense_tool_plot_logs',
        REPO_ROOT / 'tools' / 'analysis_tools' / 'plot_logs.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_run(work_dir: Path, stamp: str, start: int) -> Path:
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    lines = []
    for it in range(start, start + 40, 10):
        lines.append(
            json.dumps({
                'lr': 0.01,
                'data_time': 0.1,
                'loss': 3.0 / it,
                'seg.loss_ce': 2.0 / it,
                'depth.loss_silog': 1.0 / it,
                'seg.acc_seg': 50.0,
                'time': 0.5,
                'iter': it,
                'memory': 100,
                'step': it
            }))
    lines.append(
        json.dumps({
            'aAcc': 60.0,
            'mIoU': 30.0 + start,
            'rmse': 1.0,
            'data_time': 0.1,
            'time': 0.2,
            'step': start + 30
        }))
    lines.append('{"loss": 0.1, "st')  # truncated by a crash
    path = vis / 'scalars.json'
    path.write_text('\n'.join(lines) + '\n')
    return path


def test_plot_from_work_dir(tmp_path):
    tool = _tool()
    _write_run(tmp_path, '20240101_000000', 10)
    _write_run(tmp_path, '20240102_000000', 50)  # resumed run
    with pytest.warns(UserWarning, match='not json'):
        out = tool.main([str(tmp_path), '--title', 'toy'])
    assert out == str(tmp_path / 'log_curves.png')
    width, height = Image.open(out).size
    # 6 keys on 3 columns: 2 rows of 4.5 x 3.2 inch subplots at 100 dpi
    assert (width, height) == (1350, 640)
    with pytest.warns(UserWarning, match='not json'):
        records = tool.load_scalars(tmp_path / '20240101_000000' / 'vis_data' /
                                    'scalars.json')
    assert tool.default_keys(records) == [
        'loss', 'seg.loss_ce', 'depth.loss_silog', 'aAcc', 'mIoU', 'rmse'
    ]
    series = tool.to_series(records)
    assert series['mIoU'] == ([40.0], [40.0])
    assert series['loss'][0] == [10.0, 20.0, 30.0, 40.0]


def test_plot_selected_keys_from_file(tmp_path):
    tool = _tool()
    scalars = _write_run(tmp_path, 'run', 10)
    out = tmp_path / 'curves.png'
    with pytest.warns(UserWarning):
        tool.main([
            str(scalars), '--keys', 'mIoU', 'depth.loss_silog', '--out',
            str(out), '--cols', '2'
        ])
    assert Image.open(out).size == (900, 320)
    with pytest.raises(ValueError, match='nothing to plot'):
        with pytest.warns(UserWarning):
            tool.main([str(scalars), '--keys', 'missing'])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        tool.main([str(tmp_path / 'empty')])
    with pytest.raises(FileNotFoundError, match='does not exist'):
        tool.main([str(tmp_path / 'nothing')])
