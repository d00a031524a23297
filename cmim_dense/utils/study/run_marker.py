"""The completion marker of a study run.

A run is finished once ``<run work dir>/study_run.json`` exists: it is
written atomically (:func:`~cmim_dense.utils.atomic_io.atomic_write`) after
``tools/train.py`` exited with 0 and the run's final metrics were found in
its logs, and holds those metrics, so a finished run is never trained again
and its numbers do not change when the study is resumed.
"""
import json
import os.path as osp
from typing import Any, Dict, Optional

from ..atomic_io import atomic_write

MARKER_FILE = 'study_run.json'
MARKER_VERSION = 1
REQUIRED_KEYS = ('candidate', 'seed', 'final', 'best', 'duration_s')


def marker_path(run_dir: str) -> str:
    """The marker file of the run in ``run_dir``."""
    return osp.join(run_dir, MARKER_FILE)


def write_marker(run_dir: str, record: Dict[str, Any]) -> str:
    """Write the completion marker atomically.

    Args:
        run_dir (str): The run's work dir.
        record (dict): At least :data:`REQUIRED_KEYS`.

    Returns:
        str: The marker's path.

    Raises:
        KeyError: If a required key is missing.
    """
    missing = [key for key in REQUIRED_KEYS if key not in record]
    if missing:
        raise KeyError(f'study run marker needs {missing}')
    path = marker_path(run_dir)
    data = dict(record, version=MARKER_VERSION)
    atomic_write((json.dumps(data, indent=2, sort_keys=True) + '\n').encode(),
                 path)
    return path


def read_marker(run_dir: str) -> Optional[Dict[str, Any]]:
    """The completion marker of ``run_dir``, or None if it has none.

    Args:
        run_dir (str): The run's work dir.

    Returns:
        dict | None: The record written by :func:`write_marker`.

    Raises:
        ValueError: If the marker exists but is not a marker (not json, or a
            required key missing), naming the file.
    """
    path = marker_path(run_dir)
    if not osp.isfile(path):
        return None
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f'study run marker {path} is unreadable ({err}); '
                         'delete it to train the run again') from err
    missing = [
        key for key in REQUIRED_KEYS
        if not isinstance(record, dict) or key not in record
    ]
    if missing:
        raise ValueError(f'study run marker {path} lacks {missing}; delete '
                         'it to train the run again')
    return record
