"""A study's results: ``runs.csv``, ``results.csv``, ``results.json`` and
``results.md`` in the study's work dir.

Per candidate and metric: mean +- sample std (ddof=1) over the finished
seeds, of the final value (last validation) and of the best value over
the validations. Per candidate with a ``baseline``: the paired difference
``candidate - baseline`` over the seeds both finished, with the 95%
interval of the paired t-test (:mod:`.statistics`).
"""
import csv
import io
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

from ..atomic_io import atomic_write
from .run_marker import read_marker
from .run_plan import StudyRun
from .statistics import paired_difference, summarize
from .study_config import MetricSpec, StudyConfig

KINDS = ('final', 'best')
TEST_NAME = ('two-sided paired t-test over the seeds both runs finished: '
             'mean difference +- t_{0.975, n-1} * s_d / sqrt(n), s_d the '
             'sample std (ddof=1) of the per-seed differences, t quantile '
             'from scipy.stats.t')


def run_records(runs: Sequence[StudyRun],
                failures: Optional[Dict[str, dict]] = None) -> List[dict]:
    """One record per run: its marker's values, or why it has none.

    Args:
        runs (Sequence[StudyRun]): The study's runs.
        failures (dict, optional): Run name -> ``dict(reason, log)`` of the
            runs that failed in this session.

    Returns:
        list[dict]: ``candidate``, ``seed``, ``status`` (``done``,
        ``failed`` or ``not run``), ``work_dir``, ``log`` and, when done,
        ``final``, ``best``, ``best_step``, ``duration_s``.
    """
    failures = failures or {}
    records = []
    for run in runs:
        record = dict(
            candidate=run.candidate.name,
            seed=run.seed,
            work_dir=run.work_dir,
            log=run.log_file)
        marker = read_marker(run.work_dir)
        if marker is not None:
            record.update(
                status='done',
                final=marker['final'],
                best=marker['best'],
                best_step=marker.get('best_step', {}),
                duration_s=marker['duration_s'])
        elif run.name in failures:
            record.update(status='failed', error=failures[run.name]['reason'])
        else:
            record.update(status='not run')
        records.append(record)
    return records


def _values(records: Sequence[dict], candidate: str, kind: str,
            key: str) -> Dict[int, float]:
    return {
        r['seed']: float(r[kind][key])
        for r in records if r['candidate'] == candidate
        and r['status'] == 'done' and key in r[kind]
    }


def _improves(spec: MetricSpec, low: float, high: float) -> Optional[bool]:
    """True/False if the interval is on the better/worse side of 0."""
    if math.isnan(low) or math.isnan(high):
        return None
    if low > 0 or high < 0:
        return (low > 0) == spec.higher_is_better
    return None


def summarize_study(study: StudyConfig, records: Sequence[dict]) -> dict:
    """The study's statistics.

    Args:
        study (StudyConfig): The study.
        records (Sequence[dict]): From :func:`run_records`.

    Returns:
        dict: ``candidates`` (per candidate, per kind and metric key: ``n``,
        ``mean``, ``std``) and ``comparisons`` (per candidate with a
        baseline, kind and metric: the paired difference fields plus
        ``improves``: True / False when the interval excludes 0 on the
        better / worse side, else None).
    """
    candidates = []
    comparisons = []
    for cand in study.candidates:
        entry = dict(
            name=cand.name,
            label=cand.label,
            config=cand.config,
            baseline=cand.baseline,
            from_scratch=cand.from_scratch,
            seeds_done=sorted(
                r['seed'] for r in records
                if r['candidate'] == cand.name and r['status'] == 'done'))
        for kind in KINDS:
            entry[kind] = {
                spec.key:
                summarize(
                    list(_values(records, cand.name, kind,
                                 spec.key).values())).to_dict()
                for spec in study.metrics
            }
        candidates.append(entry)
        if cand.baseline is None:
            continue
        for kind in KINDS:
            for spec in study.metrics:
                diff = paired_difference(
                    _values(records, cand.name, kind, spec.key),
                    _values(records, cand.baseline, kind, spec.key))
                if diff is None:
                    continue
                comparisons.append(
                    dict(
                        candidate=cand.name,
                        baseline=cand.baseline,
                        kind=kind,
                        metric=spec.key,
                        improves=_improves(spec, diff.low, diff.high),
                        **diff.to_dict()))
    return dict(candidates=candidates, comparisons=comparisons)


def _fmt(value: float, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return 'n/a'
    return f'{value:+.4g}' if signed else f'{value:.4g}'


def _mean_std(summary: dict) -> str:
    if summary['n'] == 0:
        return 'n/a'
    if summary['n'] < 2:
        return f'{_fmt(summary["mean"])} (n=1)'
    return f'{_fmt(summary["mean"])} ± {_fmt(summary["std"])}'


def _arrow(spec: MetricSpec) -> str:
    return '↑' if spec.higher_is_better else '↓'


def _md_table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = [
        '| ' + ' | '.join(header) + ' |',
        '|' + '|'.join(['---'] * len(header)) + '|'
    ]
    return lines + ['| ' + ' | '.join(row) + ' |' for row in rows]


def _label(entry: dict) -> str:
    return entry['label'] + (' †' if entry['from_scratch'] else '')


def markdown(study: StudyConfig, results: dict) -> str:
    """The markdown report (``results.md``).

    Args:
        study (StudyConfig): The study.
        results (dict): As in ``results.json``.

    Returns:
        str: Markdown text.
    """
    name = osp.splitext(osp.basename(study.filename))[0]
    seeds = ', '.join(map(str, study.seeds))
    lines = [
        f'# Study `{name}`', '',
        f'Seeds {seeds}; mean ± sample std (ddof=1) over the seeds '
        'each candidate finished (n).', ''
    ]
    by_name = {c['name']: c for c in results['candidates']}
    for kind, title in (('final', 'Final metrics (last validation)'),
                        ('best', 'Best metrics (best validation per run)')):
        lines += [f'## {title}', '']
        header = ['Candidate', 'n'
                  ] + [f'{s.label} {_arrow(s)}' for s in study.metrics]
        rows = [[_label(c), str(len(c['seeds_done']))] +
                [_mean_std(c[kind][s.key]) for s in study.metrics]
                for c in results['candidates']]
        lines += _md_table(header, rows) + ['']
    diffs = [c for c in results['comparisons'] if c['kind'] == 'final']
    if diffs:
        lines += [
            '## Paired difference to the baseline (final metrics)', '',
            'Candidate − baseline, mean [95% interval] (p-value).', ''
        ]
        header = ['Candidate', 'Baseline', 'pairs'
                  ] + [f'Δ {s.label} {_arrow(s)}' for s in study.metrics]
        rows = []
        for cand in study.candidates:
            mine = {
                c['metric']: c
                for c in diffs if c['candidate'] == cand.name
            }
            if not mine:
                continue
            row = [
                _label(by_name[cand.name]),
                _label(by_name[cand.baseline]),
                str(max(c['n'] for c in mine.values()))
            ]
            for spec in study.metrics:
                c = mine.get(spec.key)
                if c is None:
                    row.append('n/a')
                    continue
                mark = {True: ' ✓', False: ' ✗', None: ''}[c['improves']]
                row.append(
                    f'{_fmt(c["mean"], True)} [{_fmt(c["low"], True)}'
                    f', {_fmt(c["high"], True)}] (p={_fmt(c["p_value"])})'
                    f'{mark}')
            rows.append(row)
        lines += _md_table(header, rows) + ['']
    notes = [
        f'Interval and p-value: {TEST_NAME}; n/a with fewer than two '
        'pairs. ✓ / ✗: the interval excludes 0 on the better / worse '
        'side of the metric (↑ higher is better, ↓ lower is better).'
    ]
    if any(c['from_scratch'] for c in results['candidates']):
        notes.append('†: trained from scratch on purpose (cfg-options '
                     '`backbone.init_cfg=None`).')
    failed = [r for r in results['runs'] if r['status'] != 'done']
    for r in failed:
        why = f': {r["error"]}' if r.get('error') else ''
        notes.append(f'{r["candidate"]} seed {r["seed"]} {r["status"]}'
                     f'{why} (log: `{r["log"]}`)')
    lines += ['Notes:', ''] + [f'- {n}' for n in notes]
    return '\n'.join(lines) + '\n'


def _csv(rows: List[dict]) -> str:
    buffer = io.StringIO()
    fields: List[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator='\n')
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def summary_rows(study: StudyConfig, results: dict) -> List[dict]:
    """One ``results.csv`` row per candidate.

    Args:
        study (StudyConfig): The study.
        results (dict): As in ``results.json``.

    Returns:
        list[dict]: ``candidate, label, baseline, from_scratch, n`` and per
        metric ``<key>_mean``, ``<key>_std``, ``<key>_best_mean``,
        ``<key>_best_std`` and, with a baseline, ``<key>_diff``,
        ``<key>_diff_low``, ``<key>_diff_high``, ``<key>_diff_p``.
    """
    rows = []
    for c in results['candidates']:
        row = dict(
            candidate=c['name'],
            label=c['label'],
            baseline=c['baseline'] or '',
            from_scratch=c['from_scratch'],
            n=len(c['seeds_done']))
        for spec in study.metrics:
            final, best = c['final'][spec.key], c['best'][spec.key]
            row.update({
                f'{spec.key}_mean': final['mean'],
                f'{spec.key}_std': final['std'],
                f'{spec.key}_best_mean': best['mean'],
                f'{spec.key}_best_std': best['std']
            })
            for d in results['comparisons']:
                if (d['candidate'], d['kind'],
                        d['metric']) == (c['name'], 'final', spec.key):
                    row.update({
                        f'{spec.key}_diff': d['mean'],
                        f'{spec.key}_diff_low': d['low'],
                        f'{spec.key}_diff_high': d['high'],
                        f'{spec.key}_diff_p': d['p_value']
                    })
        rows.append(row)
    return rows


def run_rows(study: StudyConfig, results: dict) -> List[dict]:
    """One ``runs.csv`` row per run (final and best values, status, log)."""
    rows = []
    for r in results['runs']:
        row = dict(
            candidate=r['candidate'], seed=r['seed'], status=r['status'])
        for spec in study.metrics:
            row[spec.key] = r.get('final', {}).get(spec.key, '')
            row[f'{spec.key}_best'] = r.get('best', {}).get(spec.key, '')
        row.update(duration_s=r.get('duration_s', ''), log=r['log'])
        rows.append(row)
    return rows


def write_results(study: StudyConfig,
                  runs: Sequence[StudyRun],
                  failures: Optional[Dict[str, dict]] = None) -> dict:
    """Write the four result files into the study's work dir.

    Args:
        study (StudyConfig): The study.
        runs (Sequence[StudyRun]): Its runs.
        failures (dict, optional): Runs failed in this session.

    Returns:
        dict: The results, as in ``results.json``.
    """
    records = run_records(runs, failures)
    results = dict(
        study=study.filename,
        work_dir=study.work_dir,
        seeds=list(study.seeds),
        metrics=[
            dict(key=m.key, label=m.label, direction=m.direction)
            for m in study.metrics
        ],
        test=TEST_NAME,
        runs=records,
        **summarize_study(study, records))
    out = study.work_dir
    atomic_write(
        _csv(run_rows(study, results)).encode(), osp.join(out, 'runs.csv'))
    atomic_write(
        _csv(summary_rows(study, results)).encode(),
        osp.join(out, 'results.csv'))
    # NaN is written as null: results.json stays standard json
    atomic_write((json.dumps(_nan_to_none(results), indent=2) + '\n').encode(),
                 osp.join(out, 'results.json'))
    atomic_write(
        markdown(study, results).encode(), osp.join(out, 'results.md'))
    return results


def _nan_to_none(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value
