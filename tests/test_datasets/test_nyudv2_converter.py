"""``tools/dataset_converters/nyudv2.py`` and ``NYUDv2FolderDataset``."""
import importlib.util
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS

from cmim_dense.datasets import NYUDv2FormatError, convert_nyudv2_to_folders

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOL = REPO_ROOT / 'tools' / 'dataset_converters' / 'nyudv2.py'
LOAD = [dict(type='LoadNYUDv2Image'), dict(type='LoadNYUDv2Annotations')]


def _tool():
    """Import the converter CLI from its path."""
    spec = importlib.util.spec_from_file_location('nyudv2_converter', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def converted(quick_set, tmp_path_factory):
    """The quick set converted to the multi-task folder layout."""
    out = tmp_path_factory.mktemp('nyud_mt') / 'NYUD_MT'
    summary = convert_nyudv2_to_folders(
        str(quick_set['root'] / 'nyu_depth_v2_labeled.mat'),
        str(out),
        progress=False)
    assert summary == dict(
        frames=quick_set['num_frames'],
        written=quick_set['num_frames'],
        skipped=0,
        invalid_depth=0)
    return out


@pytest.mark.parametrize('split, num_classes', [('train', 40), ('test', 13)])
def test_round_trip_mat_equals_folders(quick_set, converted, split,
                                       num_classes):
    from_mat = DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(quick_set['root']),
            split=split,
            num_classes=num_classes,
            pipeline=LOAD))
    from_folders = DATASETS.build(
        dict(
            type='NYUDv2FolderDataset',
            data_root=str(converted),
            split='val' if split == 'test' else split,
            num_classes=num_classes,
            pipeline=LOAD))
    assert len(from_mat) == len(from_folders) > 0
    assert from_mat.metainfo['classes'] == from_folders.metainfo['classes']
    for idx in range(len(from_mat)):
        a, b = from_mat[idx], from_folders[idx]
        assert a['frame_id'] == b['frame_id']
        for key in ('img', 'gt_seg_map', 'gt_depth_map'):
            assert a[key].dtype == b[key].dtype, key
            assert np.array_equal(a[key], b[key]), (idx, key)
        assert a['seg_fields'] == b['seg_fields']


def test_layout_written(quick_set, converted):
    names = sorted(p.name for p in converted.iterdir())
    assert names == [
        '.nyudv2_convert.json', 'depth', 'gt_sets', 'images', 'segmentation'
    ]
    train = (converted / 'gt_sets' / 'train.txt').read_text().split()
    val = (converted / 'gt_sets' / 'val.txt').read_text().split()
    assert len(train) + len(val) == quick_set['num_frames']
    seg = cv2.imread(
        str(converted / 'segmentation' / f'{train[0]}.png'),
        cv2.IMREAD_UNCHANGED)
    assert seg.dtype == np.uint8 and seg.ndim == 2 and seg.max() <= 40
    depth = np.load(converted / 'depth' / f'{train[0]}.npy')
    assert depth.dtype == np.float32 and depth.shape == seg.shape
    marker = json.loads((converted / '.nyudv2_convert.json').read_text())
    assert marker['complete'] is True
    leftovers = [p for p in converted.rglob('*') if '.tmp-' in p.name]
    assert leftovers == []


def test_cli_resume_refuse_and_overwrite(tiny_set, tmp_path, capsys):
    tool = _tool()
    mat = str(tiny_set / 'nyu_depth_v2_labeled.mat')
    out = tmp_path / 'out'
    assert tool.main([mat, str(out)]) == 0
    text = capsys.readouterr().out
    assert '6/6' in text and '6 written, 0 already complete' in text
    # interrupted run: a frame missing, a stale temporary file
    (out / 'depth' / '0003.npy').unlink()
    (out / 'images' / '.0004.tmp-999.png').write_bytes(b'partial')
    assert tool.main([mat, str(out), '--no-progress']) == 0
    assert '1 written, 5 already complete' in capsys.readouterr().out
    assert (out / 'depth' / '0003.npy').is_file()
    assert not (out / 'images' / '.0004.tmp-999.png').exists()
    # other options on the same folder: refused, nothing touched
    before = (out / 'images' / '0001.png').stat().st_mtime_ns
    assert tool.main([mat, str(out), '--img-format', 'jpg']) == 1
    assert 'refusing to overwrite' in capsys.readouterr().err
    assert (out / 'images' / '0001.png').stat().st_mtime_ns == before
    assert tool.main([mat, str(out), '--img-format', 'jpg',
                      '--overwrite']) == 0
    assert (out / 'images' / '0001.jpg').is_file()
    # a folder with unrelated content is refused too
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    assert tool.main([mat, str(other)]) == 1


def test_bad_input_writes_nothing(tiny_set, tmp_path, capsys):
    tool = _tool()
    bad = tmp_path / 'bad'
    bad.mkdir()
    shutil.copy(tiny_set / 'splits.mat', bad / 'nyu_depth_v2_labeled.mat')
    shutil.copy(tiny_set / 'splits.mat', bad / 'splits.mat')
    out = tmp_path / 'out'
    assert tool.main([str(bad / 'nyu_depth_v2_labeled.mat'), str(out)]) == 1
    assert 'MATLAB v5' in capsys.readouterr().err
    assert not out.exists()
    mat = str(tiny_set / 'nyu_depth_v2_labeled.mat')
    assert tool.main([mat, str(out), '--splits', str(tmp_path / 'x')]) == 1
    assert 'split file not found' in capsys.readouterr().err
    assert not out.exists()


def test_converter_counts_invalid_depth(tmp_path, write_mat):
    rng = np.random.default_rng(0)
    depths = rng.uniform(1, 5, (2, 4, 5)).astype(np.float32)
    depths[0, 0, 0] = np.nan
    write_mat(
        tmp_path / 'src',
        images=rng.integers(0, 256, (2, 4, 5, 3), np.uint8),
        depths=depths,
        labels=rng.integers(0, 895, (2, 4, 5)).astype(np.uint16))
    with pytest.warns(UserWarning, match='1 NaN/inf/negative'):
        summary = convert_nyudv2_to_folders(
            str(tmp_path / 'src' / 'nyu_depth_v2_labeled.mat'),
            str(tmp_path / 'out'),
            progress=False)
    assert summary['invalid_depth'] == 1
    assert np.load(tmp_path / 'out' / 'depth' / '0001.npy')[0, 0] == 0


def _folder(root, ids=('a', 'b'), size=(4, 5)):
    """A small valid multi-task layout (seg 3, depth 2.5 m)."""
    for part in ('images', 'segmentation', 'depth', 'gt_sets'):
        (root / part).mkdir(parents=True, exist_ok=True)
    for frame_id in ids:
        cv2.imwrite(
            str(root / 'images' / f'{frame_id}.png'),
            np.full(size + (3, ), 100, np.uint8))
        cv2.imwrite(
            str(root / 'segmentation' / f'{frame_id}.png'),
            np.full(size, 3, np.uint8))
        np.save(root / 'depth' / f'{frame_id}.npy',
                np.full(size, 2.5, np.float32))
    (root / 'gt_sets' / 'train.txt').write_text('\n'.join(ids) + '\n')
    return root


def _folder_dataset(root, **kwargs):
    """A ``NYUDv2FolderDataset`` on ``root`` that loads every task."""
    return DATASETS.build(
        dict(
            type='NYUDv2FolderDataset',
            data_root=str(root),
            pipeline=LOAD,
            **kwargs))


def test_folder_layout_variants(tmp_path):
    root = _folder(tmp_path)
    cv2.imwrite(
        str(root / 'images' / 'a.jpg'), np.full((4, 5, 3), 7, np.uint8))
    np.save(root / 'depth' / 'b.npy', np.full((4, 5, 1), 1.5, np.float32))
    dataset = _folder_dataset(root)
    first = dataset[0]
    assert first['img_path'].endswith('a.jpg')  # .jpg is tried first
    assert np.all(first['gt_seg_map'] == 2)  # 1..40 -> 0..39
    assert np.all(dataset[1]['gt_depth_map'] == 1.5)
    depth_only = _folder_dataset(root, tasks=('depth', ), seg_dir='none')
    assert 'gt_seg_map' not in depth_only[0]


@pytest.mark.parametrize('damage, words', [
    (lambda r: (r / 'gt_sets' / 'train.txt').unlink(), 'split list not'),
    (lambda r: (r / 'gt_sets' / 'train.txt').write_text('\n'), 'empty'),
    (lambda r: (r / 'gt_sets' / 'train.txt').write_text('a\na\n'), 'repeated'),
    (lambda r: (r / 'images' / 'b.png').unlink(), "field 'images'"),
    (lambda r: (r / 'depth' / 'a.npy').unlink(), "field 'depth'"),
])
def test_bad_folder_layouts_at_construction(tmp_path, damage, words):
    root = _folder(tmp_path)
    damage(root)
    with pytest.raises(NYUDv2FormatError, match=words):
        _folder_dataset(root)


@pytest.mark.parametrize('damage, words', [
    (lambda r: cv2.imwrite(
        str(r / 'segmentation' / 'b.png'), np.full(
            (4, 5, 3), 1, np.uint8)), 'single-channel'),
    (lambda r: cv2.imwrite(
        str(r / 'segmentation' / 'b.png'), np.full(
            (4, 5), 41, np.uint8)), 'outside 0..40'),
    (lambda r: cv2.imwrite(
        str(r / 'segmentation' / 'b.png'), np.full(
            (4, 6), 1, np.uint8)), 'differs'),
    (lambda r: (r / 'segmentation' / 'b.png').write_bytes(b'\x89PNG'),
     'not a readable image'),
    (lambda r: np.save(r / 'depth' / 'b.npy', np.zeros(
        (4, 5, 2))), 'H x W real array'),
    (lambda r: (r / 'depth' / 'b.npy').write_bytes(b'\x93NUMPY junk'),
     'not a readable .npy'),
])
def test_bad_folder_files_at_load(tmp_path, damage, words):
    root = _folder(tmp_path)
    damage(root)
    dataset = _folder_dataset(root)
    dataset[0]
    with pytest.raises(NYUDv2FormatError, match=words) as err:
        dataset[1]
    assert '/b.' in str(err.value)
