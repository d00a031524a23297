"""The study config: candidates, seeds, metrics and the study's work dir.

A study config is an ordinary mmengine config file (``_base_`` works)::

    work_dir = './work_dirs/studies/my_study'       # optional
    seeds = [0, 1, 2]
    metrics = [dict(key='mIoU', direction='higher'),
               dict(key='rmse', direction='lower')]
    cfg_options = dict(...)                          # optional, every run
    candidates = [
        dict(name='irnet', label='IR-Net', config='../nyudv2/a.py'),
        dict(name='irnet_cmim', label='IR-Net + CMIM',
             config='../nyudv2/b.py', cfg_options=dict(...),
             baseline='irnet'),
    ]

Candidate ``config`` paths are relative to the study config's folder (as
``_base_`` paths are) unless absolute. A candidate's ``cfg_options`` are
applied after the study's ``cfg_options`` and both are passed to
``tools/train.py --cfg-options``; the run's seed is ``randomness.seed``.
"""
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from mmengine.config import Config

from .cfg_options import check_cfg_options, is_from_scratch

#: The directions a metric can have.
DIRECTIONS = ('higher', 'lower')
#: What a candidate name may hold (it names the candidate's folder).
NAME_PATTERN = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._+-]*$')
CANDIDATE_KEYS = frozenset(
    {'name', 'label', 'config', 'cfg_options', 'baseline'})
METRIC_KEYS = frozenset({'key', 'direction', 'label'})


class StudyConfigError(ValueError):
    """A study config is malformed (the message names the file and field)."""


@dataclass(frozen=True)
class MetricSpec:
    """A metric the study reports.

    Args:
        key (str): Its key in the validation scalars (``mIoU``, ``rmse``).
        direction (str): ``'higher'`` or ``'lower'`` is better.
        label (str): Name in the tables and plots. Defaults to ``key``.
    """
    key: str
    direction: str
    label: str = ''

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, 'label', self.key)

    @property
    def higher_is_better(self) -> bool:
        """bool: Whether a larger value is better."""
        return self.direction == 'higher'


@dataclass(frozen=True)
class Candidate:
    """One row of the study.

    Args:
        name (str): Identifier (also its folder in the study's work dir).
        config (str): Absolute path of its training config.
        label (str): Name in the tables and plots. Defaults to ``name``.
        cfg_options (dict): ``--cfg-options`` of its runs (the study's
            shared ones merged in first).
        baseline (str, optional): Name of the candidate it is compared with
            (pairwise, over seeds); set for the CMIM candidates.
    """
    name: str
    config: str
    label: str = ''
    cfg_options: Dict[str, Any] = field(default_factory=dict)
    baseline: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, 'label', self.name)

    @property
    def from_scratch(self) -> bool:
        """bool: Whether its runs drop the backbone's pretrained weights on
        purpose (``--cfg-options ...backbone.init_cfg=None``)."""
        return is_from_scratch(self.cfg_options)


@dataclass(frozen=True)
class StudyConfig:
    """A parsed, checked study config.

    Args:
        filename (str): The study config file.
        work_dir (str): Folder of the runs and the results.
        seeds (tuple[int]): Seeds; every candidate runs with each.
        metrics (tuple[MetricSpec]): Reported metrics.
        candidates (tuple[Candidate]): Candidates, in table order.
    """
    filename: str
    work_dir: str
    seeds: Tuple[int, ...]
    metrics: Tuple[MetricSpec, ...]
    candidates: Tuple[Candidate, ...]

    def candidate(self, name: str) -> Candidate:
        """The candidate called ``name``."""
        for candidate in self.candidates:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def _error(filename: str, what: str) -> StudyConfigError:
    return StudyConfigError(f'study config {filename}: {what}')


def _check_entry(filename: str, where: str, entry: Any,
                 allowed: frozenset) -> None:
    """Raise unless ``entry`` is a dict with only ``allowed`` keys."""
    if not isinstance(entry, dict):
        raise _error(filename, f'{where} must be a dict, got {entry!r}')
    unknown = set(entry) - allowed
    if unknown:
        raise _error(
            filename, f'{where} has unknown key(s) '
            f'{sorted(unknown)}; allowed: {sorted(allowed)}')


def _parse_seeds(filename: str, seeds: Any) -> Tuple[int, ...]:
    if not isinstance(seeds, (list, tuple)) or not seeds:
        raise _error(
            filename, f'`seeds` must be a non-empty list of ints, '
            f'got {seeds!r}')
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise _error(filename, f'`seeds` must hold ints >= 0, got '
                         f'{seed!r}')
    if len(set(seeds)) != len(seeds):
        raise _error(filename, f'`seeds` repeats a seed: {list(seeds)}')
    return tuple(seeds)


def _parse_metrics(filename: str, metrics: Any) -> Tuple[MetricSpec, ...]:
    if not isinstance(metrics, (list, tuple)) or not metrics:
        raise _error(
            filename, '`metrics` must be a non-empty list of '
            "dict(key=..., direction='higher'|'lower'), got "
            f'{metrics!r}')
    specs = []
    for i, metric in enumerate(metrics):
        where = f'metrics[{i}]'
        _check_entry(filename, where, metric, METRIC_KEYS)
        key = metric.get('key')
        if not isinstance(key, str) or not key:
            raise _error(
                filename, f'{where}.key must be a metric name '
                f'(e.g. mIoU), got {key!r}')
        direction = metric.get('direction')
        if direction not in DIRECTIONS:
            raise _error(
                filename, f'{where}.direction must be one of '
                f'{DIRECTIONS}, got {direction!r}')
        specs.append(MetricSpec(key, direction, metric.get('label') or ''))
    keys = [spec.key for spec in specs]
    if len(set(keys)) != len(keys):
        raise _error(filename, f'`metrics` repeats a key: {keys}')
    return tuple(specs)


def _parse_candidate(filename: str, i: int, candidate: Any,
                     shared: Dict[str, Any]) -> Candidate:
    where = f'candidates[{i}]'
    _check_entry(filename, where, candidate, CANDIDATE_KEYS)
    name = candidate.get('name')
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise _error(
            filename, f'{where}.name must be a folder-safe name '
            f'(letters, digits, ._+-), got {name!r}')
    where = f'candidate {name!r}'
    config = candidate.get('config')
    if not isinstance(config, str) or not config:
        raise _error(
            filename, f'{where}: `config` must be a config path, '
            f'got {config!r}')
    path = config if osp.isabs(config) else osp.join(
        osp.dirname(osp.abspath(filename)), config)
    path = osp.normpath(path)
    if not osp.isfile(path):
        raise _error(
            filename, f'{where}: config {config!r} not found (looked '
            f'for {path}; relative paths start at the study '
            "config's folder)")
    options = candidate.get('cfg_options') or {}
    try:
        check_cfg_options(options)
    except (TypeError, ValueError) as err:
        raise _error(filename, f'{where}: cfg_options: {err}') from err
    baseline = candidate.get('baseline')
    if baseline is not None and not isinstance(baseline, str):
        raise _error(
            filename, f'{where}: `baseline` must be a candidate '
            f'name, got {baseline!r}')
    return Candidate(
        name=name,
        config=path,
        label=candidate.get('label') or '',
        cfg_options={
            **shared,
            **options
        },
        baseline=baseline)


def _check_baselines(filename: str, candidates: List[Candidate]) -> None:
    names = [c.name for c in candidates]
    for candidate in candidates:
        if candidate.baseline is None:
            continue
        if candidate.baseline == candidate.name:
            raise _error(
                filename, f'candidate {candidate.name!r} is its own '
                'baseline')
        if candidate.baseline not in names:
            raise _error(
                filename, f'candidate {candidate.name!r}: baseline '
                f'{candidate.baseline!r} is not a candidate; '
                f'candidates: {names}')


def load_study_config(filename: str,
                      work_dir: Optional[str] = None) -> StudyConfig:
    """Read and check a study config file.

    Args:
        filename (str): The study config (an mmengine config file).
        work_dir (str, optional): Overrides the config's ``work_dir``. The
            default without either is ``./work_dirs/studies/<file stem>``.

    Returns:
        StudyConfig: The study.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        StudyConfigError: If a field is missing or malformed, naming the file
            and the field.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'study config {filename} not found')
    cfg = Config.fromfile(filename).to_dict()
    for key in ('seeds', 'metrics', 'candidates'):
        if key not in cfg:
            raise _error(filename, f'`{key}` is missing')
    seeds = _parse_seeds(filename, cfg['seeds'])
    metrics = _parse_metrics(filename, cfg['metrics'])
    shared = cfg.get('cfg_options') or {}
    try:
        check_cfg_options(shared)
    except (TypeError, ValueError) as err:
        raise _error(filename, f'cfg_options: {err}') from err
    raw = cfg['candidates']
    if not isinstance(raw, (list, tuple)) or not raw:
        raise _error(
            filename, '`candidates` must be a non-empty list of '
            f'dict(name=..., config=...), got {raw!r}')
    candidates = [
        _parse_candidate(filename, i, c, shared) for i, c in enumerate(raw)
    ]
    names = [c.name for c in candidates]
    if len(set(names)) != len(names):
        raise _error(filename, f'candidate names repeat: {names}')
    _check_baselines(filename, candidates)
    if work_dir is None:
        work_dir = cfg.get('work_dir') or osp.join(
            './work_dirs', 'studies',
            osp.splitext(osp.basename(filename))[0])
    return StudyConfig(
        filename=osp.abspath(filename),
        work_dir=osp.abspath(work_dir),
        seeds=seeds,
        metrics=metrics,
        candidates=tuple(candidates))
