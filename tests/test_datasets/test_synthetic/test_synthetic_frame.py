"""One synthetic frame: determinism and plausible content."""
import numpy as np
import pytest

from cmim_dense.datasets.synthetic import (SYNTHETIC_RAW_IDS,
                                           render_synthetic_frame)


def test_deterministic_and_independent_of_set_size():
    a = render_synthetic_frame(3, 30, 40, seed=7)
    b = render_synthetic_frame(3, 30, 40, seed=7)
    c = render_synthetic_frame(3, 30, 40, seed=8)
    for key in ('image', 'depth', 'raw_depth', 'label', 'instance'):
        assert np.array_equal(a[key], b[key])
    assert not np.array_equal(a['depth'], c['depth'])



def test_frame_content_is_plausible():
    height, width = 60, 80
    raw_ids = set(SYNTHETIC_RAW_IDS.values()) | {0}
    kinds = set()
    for index in range(6):
        frame = render_synthetic_frame(index, height, width, seed=0)
        label, depth, raw = frame['label'], frame['depth'], frame['raw_depth']
        assert set(np.unique(label).tolist()) <= raw_ids
        assert frame['image'].shape == (height, width, 3)
        assert np.all(np.isfinite(depth)) and depth.min() > 0.2
        assert depth.max() <= 10.0
        # Kinect-like raw depth: holes, otherwise close to the true depth
        valid = raw > 0
        assert 0.02 < 1 - valid.mean() < 0.6
        err = np.abs(raw[valid] - depth[valid])
        assert np.all(err < 0.05 + 0.01 * depth[valid]**2)
        # the invalid border: unlabeled, no raw depth
        assert np.all(label[0] == 0) and np.all(raw[:, -1] == 0)
        # room surfaces appear, appearance varies with the surface
        assert SYNTHETIC_RAW_IDS['wall'] in label
        assert SYNTHETIC_RAW_IDS['floor'] in label
        img = frame['image'].astype(float)
        wall = img[label == SYNTHETIC_RAW_IDS['wall']].mean(0)
        floor = img[label == SYNTHETIC_RAW_IDS['floor']].mean(0)
        assert np.abs(wall - floor).max() > 10
        kinds.add(frame['scene_type'])
    assert len(kinds) >= 3



def test_too_small_frames_are_refused():
    with pytest.raises(ValueError, match='8x8'):
        render_synthetic_frame(0, 4, 4)
