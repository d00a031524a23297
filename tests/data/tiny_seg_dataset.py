"""A toy segmentation dataset in mmseg's ``BaseSegDataset`` layout, for the
tests that run the real training path (``tests/data/configs/tiny_seg.py``)."""
from pathlib import Path
from typing import Dict, Optional

import numpy as np
from PIL import Image

NUM_CLASSES = 3
IMG_SIZE = 32


def make(root: Path, splits: Optional[Dict[str, int]] = None) -> Path:
    """Write a toy segmentation dataset in mmseg's ``BaseSegDataset`` layout.

    Each image is a random 32x32 RGB PNG; its label is a uint8 PNG of
    vertical stripes of the classes 0..2 with the image's red channel
    raised on class 1 and green on class 2, so the task is learnable.

    Args:
        root (Path): Directory to create the dataset in.
        splits (dict, optional): Number of images per split. Defaults to
            ``{'train': 4, 'val': 2}``.

    Returns:
        Path: ``root``.
    """
    splits = splits or {'train': 4, 'val': 2}
    rng = np.random.default_rng(0)
    for split, num in splits.items():
        img_dir = root / 'img_dir' / split
        ann_dir = root / 'ann_dir' / split
        img_dir.mkdir(parents=True)
        ann_dir.mkdir(parents=True)
        for i in range(num):
            cols = (np.arange(IMG_SIZE) * NUM_CLASSES // IMG_SIZE + i)
            label = np.tile(cols % NUM_CLASSES, (IMG_SIZE, 1)).astype(np.uint8)
            img = rng.integers(0, 64, (IMG_SIZE, IMG_SIZE, 3), dtype=np.uint8)
            img[..., 0][label == 1] += 150
            img[..., 1][label == 2] += 150
            Image.fromarray(img).save(img_dir / f'{i:03d}.png')
            Image.fromarray(label).save(ann_dir / f'{i:03d}.png')
    return root
