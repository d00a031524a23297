"""``splits.mat``: the real file, round trips and every malformed variant."""
import h5py
import numpy as np
import pytest
import scipy.io

from cmim_dense.datasets import (NYUDv2FormatError, load_nyudv2_splits,
                                 save_nyudv2_splits)


def test_real_split_sizes(shared_data):
    path = shared_data / 'nyuv2' / 'splits.mat'
    splits = load_nyudv2_splits(str(path), 1449)
    assert len(splits['train']) == 795 and len(splits['test']) == 654
    assert np.intersect1d(splits['train'], splits['test']).size == 0
    assert np.array_equal(
        np.union1d(splits['train'], splits['test']), np.arange(1449))
    raw = scipy.io.loadmat(str(path))
    assert raw['trainNdxs'].shape == (795, 1)
    assert raw['trainNdxs'].dtype == np.uint16
    assert np.array_equal(splits['train'], raw['trainNdxs'].ravel() - 1)


def test_save_matches_official_format(tmp_path, shared_data):
    real = load_nyudv2_splits(str(shared_data / 'nyuv2' / 'splits.mat'))
    out = tmp_path / 'splits.mat'
    save_nyudv2_splits(str(out), real['train'], real['test'])
    mine = scipy.io.loadmat(str(out))
    ref = scipy.io.loadmat(str(shared_data / 'nyuv2' / 'splits.mat'))
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
