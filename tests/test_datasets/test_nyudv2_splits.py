"""``splits.mat``: the real file, the packaged copy, round trips and every
malformed variant; the split the loaders and the converter fall back to."""
import h5py
import numpy as np
import pytest
import scipy.io
from mmseg.registry import DATASETS

from cmim_dense.datasets import (NYUDv2FormatError, convert_nyudv2_to_folders,
                                 load_nyudv2_splits)
from cmim_dense.datasets.nyudv2_splits import save_nyudv2_splits
from cmim_dense.datasets import nyudv2_splits


def test_real_split_sizes(real_data):
    path = real_data / 'nyuv2' / 'splits.mat'
    splits = load_nyudv2_splits(str(path), 1449)
    assert len(splits['train']) == 795 and len(splits['test']) == 654
    assert np.intersect1d(splits['train'], splits['test']).size == 0
    assert np.array_equal(
        np.union1d(splits['train'], splits['test']), np.arange(1449))
    raw = scipy.io.loadmat(str(path))
    assert raw['trainNdxs'].shape == (795, 1)
    assert raw['trainNdxs'].dtype == np.uint16
    assert np.array_equal(splits['train'], raw['trainNdxs'].ravel() - 1)


def test_packaged_split_equals_real_splits_mat(real_data):
    real = load_nyudv2_splits(str(real_data / 'nyuv2' / 'splits.mat'), 1449)
    packaged = load_nyudv2_splits()
    assert load_nyudv2_splits(num_frames=1449).keys() == packaged.keys()
    for split in ('train', 'test'):
        assert packaged[split].dtype == np.int64
        assert np.array_equal(packaged[split], real[split])  # same order
    assert len(packaged['train']) == 795 and len(packaged['test']) == 654
    assert np.intersect1d(packaged['train'], packaged['test']).size == 0
    assert np.array_equal(
        np.union1d(packaged['train'], packaged['test']), np.arange(1449))


def test_packaged_split_refuses_other_labeled_sets():
    with pytest.raises(NYUDv2FormatError) as err:
        load_nyudv2_splits(num_frames=96)
    message = str(err.value)
    assert 'nyudv2_splits.txt' in message and '96 frames' in message
    assert 'split_file=' in message


@pytest.mark.parametrize('text, words', [
    ('trainNdxs 3\n1 2\n', 'short block'),
    ('trainNdxs x\n1\n', 'malformed block header'),
    ('# header only\ntrainNdxs 1\n1\n', "'testNdxs'"),
])
def test_malformed_packaged_split(tmp_path, monkeypatch, text, words):
    path = tmp_path / 'nyudv2_splits.txt'
    path.write_text(text)
    monkeypatch.setattr(nyudv2_splits, 'PACKAGED_SPLITS_FILE', str(path))
    with pytest.raises(NYUDv2FormatError, match=words):
        load_nyudv2_splits()
    path.unlink()
    with pytest.raises(NYUDv2FormatError, match='reinstall'):
        load_nyudv2_splits()


def test_default_split_file_is_beside_else_packaged(tmp_path):
    assert nyudv2_splits.default_nyudv2_split_file(str(tmp_path)) is None
    (tmp_path / 'splits.mat').mkdir()  # not a file: still the packaged one
    assert nyudv2_splits.default_nyudv2_split_file(str(tmp_path)) is None
    (tmp_path / 'splits.mat').rmdir()
    save_nyudv2_splits(str(tmp_path / 'splits.mat'), [0], [1])
    assert nyudv2_splits.default_nyudv2_split_file(str(tmp_path)) == str(
        tmp_path / 'splits.mat')


@pytest.fixture(scope='module')
def labeled_only(tmp_path_factory):
    """A 1449-frame labeled file of 2 x 3 frames with no split file."""
    root = tmp_path_factory.mktemp('labeled_only')
    num, height, width = 1449, 2, 3
    with h5py.File(root / 'nyu_depth_v2_labeled.mat', 'w') as file:
        # the documented axis reversal: N x C x W x H and N x W x H
        file['images'] = np.zeros((num, 3, width, height), np.uint8)
        file['depths'] = np.ones((num, width, height), np.float32)
        file['labels'] = np.ones((num, width, height), np.uint16)
    return root


def test_labeled_file_alone_uses_packaged_split(labeled_only, tmp_path):
    packaged = load_nyudv2_splits()
    for split in ('train', 'test'):
        dataset = DATASETS.build(
            dict(
                type='NYUDv2MatDataset',
                data_root=str(labeled_only),
                split=split,
                pipeline=[]))
        frames = [dataset.get_data_info(i)['frame_idx'] for i in (0, -1)]
        assert len(dataset) == len(packaged[split])
        assert frames == packaged[split][[0, -1]].tolist()
    # an explicit split file still wins
    save_nyudv2_splits(str(tmp_path / 'mine.mat'), [4, 7], [9])
    dataset = DATASETS.build(
        dict(
            type='NYUDv2MatDataset',
            data_root=str(labeled_only),
            split_file=str(tmp_path / 'mine.mat'),
            pipeline=[]))
    assert [info['frame_idx'] for info in dataset] == [4, 7]


def test_converter_uses_packaged_split(labeled_only, tmp_path):
    out = tmp_path / 'out'
    summary = convert_nyudv2_to_folders(
        str(labeled_only / 'nyu_depth_v2_labeled.mat'),
        str(out),
        progress=False)
    assert summary['frames'] == 1449
    packaged = load_nyudv2_splits()
    for split, name in (('train', 'train'), ('test', 'val')):
        ids = (out / 'gt_sets' / f'{name}.txt').read_text().split()
        assert ids == [f'{frame + 1:04d}' for frame in packaged[split]]


def test_save_matches_official_format(tmp_path, real_data):
    real = load_nyudv2_splits(str(real_data / 'nyuv2' / 'splits.mat'))
    out = tmp_path / 'splits.mat'
    save_nyudv2_splits(str(out), real['train'], real['test'])
    mine = scipy.io.loadmat(str(out))
    ref = scipy.io.loadmat(str(real_data / 'nyuv2' / 'splits.mat'))
    for key in ('trainNdxs', 'testNdxs'):
        assert mine[key].dtype == ref[key].dtype
        assert np.array_equal(mine[key], ref[key])
    assert out.read_bytes().startswith(b'MATLAB 5.0 MAT-file')
    assert [p.name for p in tmp_path.iterdir()] == ['splits.mat']


def test_hdf5_split_file_is_read(tmp_path):
    path = tmp_path / 'splits.mat'
    with h5py.File(path, 'w') as file:  # v7.3: MATLAB (K, 1) -> h5py (1, K)
        file['trainNdxs'] = np.array([[1, 3, 5]], np.float64)
        file['testNdxs'] = np.array([[2, 4]], np.float64)
    splits = load_nyudv2_splits(str(path), 5)
    assert splits['train'].tolist() == [0, 2, 4]
    assert splits['test'].tolist() == [1, 3]


def _save(path, **variables):
    """Write a v5 ``.mat`` with the given variables."""
    scipy.io.savemat(str(path), variables)
    return str(path)


@pytest.mark.parametrize('variables, field, words', [
    (dict(trainNdxs=np.array([[1], [2]])), 'testNdxs', 'missing'),
    (dict(trainNdxs=np.zeros(
        (0, 1)), testNdxs=np.array([[1]])), 'trainNdxs', 'empty'),
    (dict(trainNdxs=np.array([[0], [1]]), testNdxs=np.array(
        [[2]])), 'trainNdxs', 'out of range'),
    (dict(trainNdxs=np.array([[1]]), testNdxs=np.array(
        [[9]])), 'testNdxs', 'out of range'),
    (dict(trainNdxs=np.array([[1], [2]]), testNdxs=np.array(
        [[2]])), 'trainNdxs/testNdxs', 'both splits'),
    (dict(trainNdxs=np.array([[1], [1]]), testNdxs=np.array(
        [[2]])), 'trainNdxs', 'repeated'),
    (dict(trainNdxs=np.array([[1.5]]), testNdxs=np.array(
        [[2]])), 'trainNdxs', 'integers'),
    (dict(trainNdxs=np.ones(
        (2, 2)), testNdxs=np.array([[2]])), 'trainNdxs', 'vector'),
    (dict(trainNdxs=np.array(['a']), testNdxs=np.array(
        [[2]])), 'trainNdxs', 'vector'),
])
def test_bad_split_files(tmp_path, variables, field, words):
    path = _save(tmp_path / 'splits.mat', **variables)
    with pytest.raises(NYUDv2FormatError) as err:
        load_nyudv2_splits(path, 8)
    message = str(err.value)
    assert path in message and f"field '{field}'" in message
    assert words in message


def test_missing_and_unreadable_split_files(tmp_path):
    with pytest.raises(NYUDv2FormatError, match='not found'):
        load_nyudv2_splits(str(tmp_path / 'nope.mat'))
    junk = tmp_path / 'junk.mat'
    junk.write_bytes(b'not a mat file at all' * 10)
    with pytest.raises(NYUDv2FormatError, match='junk.mat'):
        load_nyudv2_splits(str(junk))
