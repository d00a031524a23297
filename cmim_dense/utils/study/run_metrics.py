"""The validation metrics of a run, from mmengine's ``scalars.json`` logs.

Every ``tools/train.py`` start (the first one and each resume) writes
``<run work dir>/<timestamp>/vis_data/scalars.json``: json lines, one per
logged training iteration and one per validation, each with its ``step``.
A validation line is one that holds a study metric. The lines of all
starts are merged in timestamp order, a later line replacing an earlier
one of the same step (a resumed or restarted run repeats steps), which
gives the run's validation curve; its last point gives the final metrics
and its best point per metric (by the metric's direction) the best ones.
"""
import glob
import json
import math
import os.path as osp
from typing import Dict, List, Sequence, Tuple

from .study_config import MetricSpec

SCALARS_GLOB = osp.join('*', 'vis_data', 'scalars.json')

#: step -> metric key -> value
Curve = Dict[int, Dict[str, float]]


class MetricsNotFoundError(RuntimeError):
    """A run's logs lack the final value of a study metric."""


def scalars_files(run_dir: str) -> List[str]:
    """The ``scalars.json`` files of a run, oldest start first.

    Args:
        run_dir (str): The run's work dir.

    Returns:
        list[str]: Paths, sorted by their timestamp folder.
    """
    return sorted(glob.glob(osp.join(run_dir, SCALARS_GLOB)))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validation_curve(run_dir: str, keys: Sequence[str]) -> Curve:
    """The run's validation values of ``keys``, per step.

    Args:
        run_dir (str): The run's work dir.
        keys (Sequence[str]): Metric keys; a line holding one of them is a
            validation line.

    Returns:
        dict[int, dict[str, float]]: Step -> the line's values of ``keys``,
        sorted by step. Lines that are not json (a line cut by a kill) are
        skipped.
    """
    curve: Curve = {}
    for path in scalars_files(run_dir):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if not isinstance(record, dict) or not _number(
                        record.get('step')):
                    continue
                values = {
                    key: float(record[key])
                    for key in keys if _number(record.get(key))
                }
                if values:
                    curve[int(record['step'])] = values
    return dict(sorted(curve.items()))


def _better(spec: MetricSpec, value: float, than: float) -> bool:
    return value > than if spec.higher_is_better else value < than


def final_and_best(
        curve: Curve, metrics: Sequence[MetricSpec], where: str
) -> Tuple[Dict[str, float], Dict[str, float], Dict[str, int]]:
    """Final and best value of every metric of a validation curve.

    Args:
        curve (Curve): From :func:`validation_curve`.
        metrics (Sequence[MetricSpec]): The study's metrics.
        where (str): The run's work dir, for the error message.

    Returns:
        tuple: ``final`` (values at the last validation step), ``best``
        (best finite value over all steps, by direction) and ``best_step``
        (its step), each keyed by metric key.

    Raises:
        MetricsNotFoundError: If there is no validation line, or the last
            one lacks a metric or holds a non-finite value.
    """
    keys = [spec.key for spec in metrics]
    if not curve:
        raise MetricsNotFoundError(
            f'no validation metrics {keys} in {osp.join(where, SCALARS_GLOB)}'
            ' (did the run validate? are the metric keys right?)')
    last_step = max(curve)
    last = curve[last_step]
    missing = [key for key in keys if key not in last]
    if missing:
        raise MetricsNotFoundError(
            f'the last validation (step {last_step}) in {where} lacks '
            f'{missing}; it has {sorted(last)}')
    bad = [key for key in keys if not math.isfinite(last[key])]
    if bad:
        raise MetricsNotFoundError(f'the last validation (step {last_step}) '
                                   f'in {where} has non-finite {bad}')
    best: Dict[str, float] = {}
    best_step: Dict[str, int] = {}
    for spec in metrics:
        for step, values in curve.items():
            value = values.get(spec.key)
            if value is None or not math.isfinite(value):
                continue
            if spec.key not in best or _better(spec, value, best[spec.key]):
                best[spec.key] = value
                best_step[spec.key] = step
    return {key: last[key] for key in keys}, best, best_step
