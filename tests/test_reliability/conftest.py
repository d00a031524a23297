"""Fixtures of the reliability scenarios: the toy data and the
uninterrupted runs the interrupted ones are compared with."""
from pathlib import Path
from typing import Dict

import pytest
from training_runs import (DDP_OPTIONS, SEED, WORKERS, command, final_state,
                           run)


@pytest.fixture(scope='session')
def reliability_data(tmp_path_factory: pytest.TempPathFactory,
                     tiny_seg_dataset) -> Path:
    """The toy dataset: 8 training images, i.e. 4 iterations per epoch."""
    return tiny_seg_dataset.make(
        tmp_path_factory.mktemp('reliability') / 'data', {'train': 8})


@pytest.fixture(scope='session')
def uninterrupted(tmp_path_factory: pytest.TempPathFactory,
                  reliability_data: Path) -> Dict[str, dict]:
    """Final state of an uninterrupted single-process run (2 workers)."""
    work_dir = tmp_path_factory.mktemp('uninterrupted')
    run(command(work_dir, reliability_data, *SEED, *WORKERS))
    return final_state(work_dir)


@pytest.fixture(scope='session')
def uninterrupted_ddp(tmp_path_factory: pytest.TempPathFactory,
                      reliability_data: Path) -> Dict[str, dict]:
    """Final state of an uninterrupted 2-rank run (gloo, one seed per
    rank: ``diff_rank_seed``, so the ranks' dropout masks differ)."""
    work_dir = tmp_path_factory.mktemp('uninterrupted_ddp')
    run(command(work_dir, reliability_data, *SEED, *DDP_OPTIONS, ranks=2))
    return final_state(work_dir)
