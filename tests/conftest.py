"""Suite-wide test settings and shared fixtures."""
import importlib.util
from pathlib import Path

import pytest
import torch

DATA_DIR = Path(__file__).resolve().parent / 'data'

# Tiny tensors: intra-op threads cost far more than they give (a 3x3 conv on
# a 5x5 input takes ~20 ms with 2 threads and ~0.1 ms with one on the 2-core
# CI machine). Subprocess tests set OMP_NUM_THREADS=1 for the same reason.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _fixed_seed():
    """Every test starts from the same global torch seed."""
    torch.manual_seed(0)


@pytest.fixture(scope='session')
def tiny_seg_dataset():
    """The module writing the toy dataset of ``tests/data/configs``."""
    spec = importlib.util.spec_from_file_location(
        'tiny_seg_dataset', DATA_DIR / 'tiny_seg_dataset.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
