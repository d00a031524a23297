"""The synthetic twin's writer: exact official layout, bytes, reuse, CLI."""
import importlib.util
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from cmim_dense.datasets.nyudv2_class_tables import NYU894_NAMES
from cmim_dense.datasets.nyudv2_mat_writer import NYUDv2MatWriter
from cmim_dense.datasets.synthetic import (generate_synthetic_nyudv2,
                                           render_synthetic_frame)

REPO_ROOT = Path(__file__).resolve().parents[3]
CLI = REPO_ROOT / 'tools' / 'dataset_converters' / 'make_synthetic_nyudv2.py'


def _cell_strings(file: h5py.File, name: str) -> list:
    """Decode a MATLAB v7.3 cell array of strings.

    Args:
        file (h5py.File): The open file.
        name (str): The cell array.

    Returns:
        list[str]: Its strings.
    """
    return [
        ''.join(chr(c) for c in file[ref][()].ravel()) for ref in file[name][0]
    ]


def test_exact_official_layout(quick_set):
    num, height, width = (quick_set['num_frames'], quick_set['height'],
                          quick_set['width'])
    path = quick_set['root'] / 'nyu_depth_v2_labeled.mat'
    head = path.read_bytes()[:128]
    assert head.startswith(b'MATLAB 7.3 MAT-file')
    assert head[-4:] == b'\x00\x02IM'
    with h5py.File(path, 'r') as file:
        assert file.userblock_size == 512
        expected = {
            'images': ((num, 3, width, height), np.uint8, b'uint8'),
            'depths': ((num, width, height), np.float32, b'single'),
            'rawDepths': ((num, width, height), np.float32, b'single'),
            'labels': ((num, width, height), np.uint16, b'uint16'),
            'instances': ((num, width, height), np.uint8, b'uint8'),
            'accelData': ((4, num), np.float32, b'single'),
        }
        for name, (shape, dtype, cls) in expected.items():
            assert file[name].shape == shape, name
            assert file[name].dtype == dtype, name
            assert file[name].attrs['MATLAB_class'] == cls
        for name, size in (('names', 894), ('scenes', num),
                           ('sceneTypes', num), ('rawRgbFilenames', num),
                           ('rawDepthFilenames', num)):
            assert file[name].shape == (1, size)
            assert file[name].dtype == h5py.ref_dtype
            assert file[name].attrs['MATLAB_class'] == b'cell'
        first = file[file['names'][0, 0]]
        assert first.dtype == np.uint16 and first.shape == (4, 1)
        assert first.attrs['MATLAB_class'] == b'char'
        assert tuple(_cell_strings(file, 'names')) == NYU894_NAMES
        scenes = _cell_strings(file, 'scenes')
        types = _cell_strings(file, 'sceneTypes')
        assert all(s.startswith(t) for s, t in zip(scenes, types))
    splits = scipy.io.loadmat(str(quick_set['root'] / 'splits.mat'))
    train, test = splits['trainNdxs'], splits['testNdxs']
    assert train.dtype == np.uint16 and train.shape[1] == 1
    assert np.intersect1d(train, test).size == 0
    assert np.array_equal(np.union1d(train, test), np.arange(1, num + 1))
    assert abs(len(train) / num - 795 / 1449) < 0.05


def test_generation_is_fast(quick_set):
    # 64 frames at 120 x 160 take about 2 s on one core
    assert quick_set['seconds'] < 30


def test_frames_stored_in_documented_orientation(quick_set):
    path = quick_set['root'] / 'nyu_depth_v2_labeled.mat'
    frame = render_synthetic_frame(5, quick_set['height'], quick_set['width'],
                                   quick_set['seed'])
    with h5py.File(path, 'r') as file:
        assert np.array_equal(file['images'][5].transpose(2, 1, 0),
                              frame['image'])
        assert np.array_equal(file['labels'][5].T, frame['label'])
        assert np.array_equal(file['depths'][5].T, frame['depth'])
        assert np.array_equal(file['rawDepths'][5].T, frame['raw_depth'])
        assert np.array_equal(file['instances'][5].T, frame['instance'])


def test_same_seed_same_file_bytes(tmp_path):
    for name in ('a', 'b'):
        generate_synthetic_nyudv2(
            str(tmp_path / name), num_frames=3, height=16, width=20, seed=2)
    for file in ('nyu_depth_v2_labeled.mat', 'splits.mat'):
        assert (tmp_path / 'a' / file).read_bytes() == \
            (tmp_path / 'b' / file).read_bytes()


def test_existing_set_is_kept_or_refused(tmp_path):
    args = dict(num_frames=3, height=16, width=20, seed=1)
    paths = generate_synthetic_nyudv2(str(tmp_path), **args)
    mtime = Path(paths['labeled']).stat().st_mtime_ns
    generate_synthetic_nyudv2(str(tmp_path), **args)  # kept
    assert Path(paths['labeled']).stat().st_mtime_ns == mtime
    with pytest.raises(FileExistsError, match='overwrite'):
        generate_synthetic_nyudv2(str(tmp_path), **dict(args, seed=2))
    generate_synthetic_nyudv2(
        str(tmp_path), overwrite=True, **dict(args, seed=2))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'nyu_depth_v2_labeled.mat', 'splits.mat'
    ]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match='2 frames'):
        generate_synthetic_nyudv2(str(tmp_path), num_frames=1)
    with pytest.raises(ValueError, match='train_fraction'):
        generate_synthetic_nyudv2(str(tmp_path), train_fraction=1.0)


def test_writer_leaves_nothing_on_error(tmp_path):
    path = tmp_path / 'out.mat'
    with pytest.raises(ValueError, match='never written'):
        with NYUDv2MatWriter(str(path), 2, 8, 8) as writer:
            frame = render_synthetic_frame(0, 8, 8)
            writer.write_frame(0, frame['image'], frame['depth'],
                               frame['raw_depth'], frame['label'])
    with pytest.raises(ValueError, match='image must be'):
        with NYUDv2MatWriter(str(path), 1, 8, 8) as writer:
            writer.write_frame(0, np.zeros((8, 9, 3), np.uint8),
                               np.zeros((8, 8)), np.zeros((8, 8)),
                               np.zeros((8, 8)))
    assert list(tmp_path.iterdir()) == []


def test_cli(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('make_synthetic', CLI)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    argv = [str(tmp_path), '--num-frames', '3', '--height', '16', '--width']
    assert tool.main(argv + ['20']) == 0
    assert '3 frames of 16x20' in capsys.readouterr().out
    assert tool.main(argv + ['24']) == 1
    assert '--overwrite' in capsys.readouterr().err
    assert tool.main(argv + ['24', '--overwrite']) == 0
