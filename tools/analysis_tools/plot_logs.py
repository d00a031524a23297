"""Draw loss and metric curves of mmengine work dirs to a PNG.

Usage::

    python tools/analysis_tools/plot_logs.py WORK_DIR [WORK_DIR|JSON ...]
        [--keys KEY ...] [--out OUT.png] [--title TITLE] [--cols N]

Every ``<run>/vis_data/scalars.json`` under each ``WORK_DIR`` (one per run:
mmengine writes one json line per logged iteration and one per validation)
is read; a json file can also be given directly. Without ``--keys``, every
key containing ``loss`` (training lines) and every metric of the
validation lines (lines without a loss; timing keys dropped) is drawn, one
subplot per key, one curve per run, against mmengine's ``step`` (iteration,
or epoch for epoch-based validation). ``--out`` defaults to
``log_curves.png`` in the first work dir (next to the first json file).
Unparsable lines (e.g. a truncated last line) are skipped with a warning.
"""
import argparse
import json
import math
import os.path as osp
import sys
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

#: Scalars that are bookkeeping, not metrics.
NON_METRIC_KEYS = frozenset({
    'step', 'iter', 'epoch', 'lr', 'base_lr', 'momentum', 'time', 'data_time',
    'memory', 'eta'
})
#: File name of mmengine's LocalVisBackend scalars.
SCALARS_FILE = 'scalars.json'
DEFAULT_OUT = 'log_curves.png'

Series = Dict[str, Tuple[List[float], List[float]]]


def find_scalar_files(paths: Sequence[str]) -> List[Path]:
    """The scalars json files of work dirs (or the json files given).

    Args:
        paths (Sequence[str]): Work dirs or json files.

    Returns:
        list[Path]: Files, sorted per work dir (runs in timestamp order).

    Raises:
        FileNotFoundError: If a path does not exist or a work dir holds no
            ``vis_data/scalars.json``.
    """
    files: List[Path] = []
    for path in map(Path, paths):
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = sorted(path.glob(f'**/vis_data/{SCALARS_FILE}'))
            if not found:
                raise FileNotFoundError(
                    f'no vis_data/{SCALARS_FILE} under {path} (is it an '
                    'mmengine work dir with a LocalVisBackend?)')
            files.extend(found)
        else:
            raise FileNotFoundError(f'{path} does not exist')
    return files


def load_scalars(path: Path) -> List[dict]:
    """Read one json-lines scalars file.

    Args:
        path (Path): The file.

    Returns:
        list[dict]: One dict per valid line with a numeric ``step``.
    """
    records = []
    with open(path) as f:
        for num, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                warnings.warn(f'{path}:{num}: not json, skipped')
                continue
            if isinstance(record, dict) and isinstance(
                    record.get('step'), (int, float)):
                records.append(record)
    return records


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def to_series(records: Sequence[dict]) -> Series:
    """Per key, the (steps, values) of the lines holding it.

    Args:
        records (Sequence[dict]): Lines of a scalars file.

    Returns:
        dict[str, tuple[list, list]]: Key -> steps and values.
    """
    series: Series = {}
    for record in records:
        for key, value in record.items():
            if key == 'step' or not _is_number(value):
                continue
            steps, values = series.setdefault(key, ([], []))
            steps.append(float(record['step']))
            values.append(float(value))
    return series


def default_keys(records: Sequence[dict]) -> List[str]:
    """Loss keys of training lines, then metric keys of validation lines.

    Args:
        records (Sequence[dict]): Lines of all runs.

    Returns:
        list[str]: Keys in first-seen order.
    """
    losses: List[str] = []
    metrics: List[str] = []
    for record in records:
        has_loss = any('loss' in key for key in record)
        for key, value in record.items():
            if not _is_number(value) or key in NON_METRIC_KEYS:
                continue
            if 'loss' in key:
                if key not in losses:
                    losses.append(key)
            elif not has_loss and key not in metrics:
                metrics.append(key)
    return losses + metrics


def plot_curves(runs: Dict[str, Series],
                keys: Sequence[str],
                out_file: str,
                title: Optional[str] = None,
                cols: int = 3) -> str:
    """Draw one subplot per key, one curve per run, and save a PNG.

    Args:
        runs (dict[str, Series]): Run label -> series.
        keys (Sequence[str]): Keys to draw.
        out_file (str): PNG path.
        title (str, optional): Figure title.
        cols (int): Subplots per row. Defaults to 3.

    Returns:
        str: ``out_file``.

    Raises:
        ValueError: If no key is given or none is in any run.
    """
    keys = [k for k in keys if any(k in s for s in runs.values())]
    if not keys:
        raise ValueError('nothing to plot: none of the keys is in the logs')
    cols = max(1, min(cols, len(keys)))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for label, series in runs.items():
            if key in series:
                steps, values = series[key]
                ax.plot(
                    steps,
                    values,
                    marker='.' if len(steps) < 30 else None,
                    label=label)
        ax.set_title(key)
        ax.set_xlabel('step')
        ax.grid(alpha=0.3)
        if len(runs) > 1:
            ax.legend(fontsize='small')
    for ax in list(axes.flat)[len(keys):]:
        ax.axis('off')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def _run_label(path: Path, taken: Sequence[str]) -> str:
    """``<timestamp>`` of ``<work_dir>/<timestamp>/vis_data/scalars.json``
    (``<work_dir>/<timestamp>`` if taken), else the file path."""
    if path.name == SCALARS_FILE and path.parent.name == 'vis_data':
        run = path.parent.parent
        label = run.name
        if label in taken:
            label = f'{run.parent.name}/{run.name}'
    else:
        label = str(path)
    while label in taken:
        label += "'"
    return label


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(
        description='plot loss and metric curves of mmengine work dirs')
    parser.add_argument(
        'paths', nargs='+', help='work dirs or scalars json files')
    parser.add_argument('--keys', nargs='+', help='scalars to plot')
    parser.add_argument(
        '--out',
        help=f'PNG file (default {DEFAULT_OUT} in '
        'the first work dir)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--cols', type=int, default=3, help='subplots per row')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    """Plot from the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.

    Returns:
        str: The written PNG path.
    """
    args = parse_args(argv)
    files = find_scalar_files(args.paths)
    runs: Dict[str, Series] = {}
    all_records: List[dict] = []
    for path in files:
        records = load_scalars(path)
        all_records.extend(records)
        runs[_run_label(path, list(runs))] = to_series(records)
    keys = args.keys or default_keys(all_records)
    out = args.out
    if out is None:
        first = Path(args.paths[0])
        out = str((first if first.is_dir() else first.parent) / DEFAULT_OUT)
    plot_curves(runs, keys, out, args.title, args.cols)
    print(f'curves of {len(keys)} scalars from {len(files)} run(s) saved to '
          f'{osp.abspath(out)}')
    return out


if __name__ == '__main__':
    sys.exit(0 if main() else 1)
