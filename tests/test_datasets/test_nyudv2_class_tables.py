"""The class tables carried by the package equal the real mapping files."""
import numpy as np
import pytest
import scipy.io

from cmim_dense.datasets import (NYU13_CLASSES, NYU40_CLASSES, nyudv2_classes,
                                 nyudv2_palette)
from cmim_dense.datasets.nyudv2_class_tables import (MAP_40_TO_13,
                                                     MAP_894_TO_40,
                                                     NYU894_NAMES,
                                                     nyudv2_label_lut)
from cmim_dense.datasets.synthetic import SYNTHETIC_RAW_IDS


def _strings(cell: np.ndarray) -> list:
    """Strings of a scipy-loaded MATLAB cell array.

    Args:
        cell (np.ndarray): Object array of 1-element string arrays.

    Returns:
        list[str]: The strings.
    """
    return [str(item[0]) for item in cell.ravel()]


def test_tables_equal_real_mapping_files(real_data):
    nyu = real_data / 'nyuv2'
    map40 = scipy.io.loadmat(str(nyu / 'classMapping40.mat'))
    assert MAP_894_TO_40 == tuple(map40['mapClass'].ravel().tolist())
    assert len(MAP_894_TO_40) == 894
    assert set(MAP_894_TO_40) == set(range(1, 41))
    assert NYU40_CLASSES == tuple(_strings(map40['className']))
    assert NYU894_NAMES == tuple(_strings(map40['allClassName']))
    map13 = scipy.io.loadmat(str(nyu / 'class13Mapping.mat'))
    struct = map13['classMapping13'][0, 0]
    assert MAP_40_TO_13 == tuple(struct['labels13'].ravel().tolist())
    assert NYU13_CLASSES == tuple(_strings(struct['classNames']))
    lines = (nyu / 'classes40.txt').read_text().splitlines()
    assert tuple(lines[:40]) == NYU40_CLASSES


def test_label_lut_conventions():
    lut = nyudv2_label_lut(40, 'nyu894')
    assert lut.dtype == np.uint8 and lut.shape == (895, )
    assert lut[0] == 255
    assert np.array_equal(lut[1:], np.array(MAP_894_TO_40) - 1)
    lut13 = nyudv2_label_lut(13, 'nyu894')
    to13 = np.array((0, ) + MAP_40_TO_13)
    assert np.array_equal(lut13[1:], to13[np.array(MAP_894_TO_40)] - 1)
    assert set(lut13[1:].tolist()) == set(range(13))
    lut40 = nyudv2_label_lut(40, 'nyu40')
    assert lut40[0] == 255 and np.array_equal(lut40[1:], np.arange(40))
    assert np.array_equal(nyudv2_label_lut(13, 'nyu40')[1:], to13[1:] - 1)
    # 'wall' is 40-class 1 and 13-class 12 ('wall')
    assert NYU13_CLASSES[lut13[21]] == 'wall' == NYU40_CLASSES[lut[21]]


@pytest.mark.parametrize('args', [(12, 'nyu894'), (40, 'nyu41'), (0, 'x')])
def test_label_lut_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        nyudv2_label_lut(*args)


def test_classes_and_palettes():
    assert nyudv2_classes(40) == NYU40_CLASSES
    assert nyudv2_classes(13) == NYU13_CLASSES
    for num in (40, 13):
        palette = nyudv2_palette(num)
        assert len(palette) == num
        assert len({tuple(c) for c in palette}) == num
        assert all(0 <= v <= 255 for c in palette for v in c)


def test_synthetic_raw_ids_map_to_their_classes(real_data):
    map40 = scipy.io.loadmat(str(real_data / 'nyuv2' / 'classMapping40.mat'))
    real_map = map40['mapClass'].ravel()
    real_names = _strings(map40['allClassName'])
    real_40 = _strings(map40['className'])
    expected_other = {
        'air vent': 'otherstructure',
        'garbage bin': 'otherfurniture',
        'bottle': 'otherprop',
    }
    for name, raw in SYNTHETIC_RAW_IDS.items():
        assert real_names[raw - 1] == name
        assert real_40[real_map[raw - 1] - 1] == expected_other.get(name, name)
    # the synthetic twin covers many of the 40 classes
    covered = {real_map[raw - 1] for raw in SYNTHETIC_RAW_IDS.values()}
    assert len(covered) >= 30
