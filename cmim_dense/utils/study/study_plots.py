"""A study's plots (matplotlib, Agg backend), in the study's work dir.

- ``metrics_bar.png``: per metric, one bar per candidate at the mean of
  the final values, error bars of one sample std, the seeds as dots;
- ``val_curves.png``: per metric, the validation curve of every run, one
  colour per candidate.
"""
import os.path as osp
from typing import Dict, List, Sequence

from .run_metrics import validation_curve
from .run_plan import StudyRun
from .study_config import StudyConfig

BAR_FILE = 'metrics_bar.png'
CURVES_FILE = 'val_curves.png'


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    return plt


def plot_metric_bars(study: StudyConfig, results: dict, out_file: str) -> str:
    """Bar chart of the final metrics with error bars.

    Args:
        study (StudyConfig): The study.
        results (dict): As in ``results.json``.
        out_file (str): The PNG.

    Returns:
        str: ``out_file``.
    """
    plt = _pyplot()
    cands = results['candidates']
    num = len(study.metrics)
    fig, axes = plt.subplots(
        1,
        num,
        figsize=(max(4.0, 1.1 * len(cands) + 1.5) * num, 3.8),
        squeeze=False)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    for ax, spec in zip(axes[0], study.metrics):
        for i, cand in enumerate(cands):
            summary = cand['final'][spec.key]
            colour = colours[i % len(colours)]
            if summary['n']:
                std = summary['std'] if summary['n'] > 1 else 0.0
                ax.bar(
                    i,
                    summary['mean'],
                    yerr=std,
                    capsize=4,
                    color=colour,
                    alpha=0.6)
            seeds = [
                r['final'][spec.key] for r in results['runs']
                if r['candidate'] == cand['name'] and r['status'] == 'done'
            ]
            ax.plot([i] * len(seeds), seeds, 'k.', markersize=4)
        ax.set_xticks(range(len(cands)))
        ax.set_xticklabels([c['label'] for c in cands],
                           rotation=30,
                           ha='right',
                           fontsize='small')
        better = 'higher' if spec.higher_is_better else 'lower'
        ax.set_title(f'{spec.label} ({better} is better)')
        ax.grid(axis='y', alpha=0.3)
    fig.suptitle(
        'final metrics: mean ± sample std over seeds (dots: seeds)',
        fontsize='medium')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def plot_validation_curves(study: StudyConfig, runs: Sequence[StudyRun],
                           out_file: str) -> str:
    """The validation curves of all runs.

    Args:
        study (StudyConfig): The study.
        runs (Sequence[StudyRun]): Its runs (those without logs are
            skipped).
        out_file (str): The PNG.

    Returns:
        str: ``out_file``.
    """
    plt = _pyplot()
    keys = [spec.key for spec in study.metrics]
    curves: Dict[str, List] = {}
    for run in runs:
        if osp.isdir(run.work_dir):
            curves[run.name] = validation_curve(run.work_dir, keys)
    num = len(study.metrics)
    fig, axes = plt.subplots(1, num, figsize=(4.8 * num, 3.6), squeeze=False)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    order = {c.name: i for i, c in enumerate(study.candidates)}
    for ax, spec in zip(axes[0], study.metrics):
        labelled = set()
        for run in runs:
            curve = curves.get(run.name) or {}
            points = [(s, v[spec.key]) for s, v in curve.items()
                      if spec.key in v]
            if not points:
                continue
            name = run.candidate.name
            ax.plot([p[0] for p in points], [p[1] for p in points],
                    color=colours[order[name] % len(colours)],
                    marker='.',
                    alpha=0.8,
                    label=None if name in labelled else run.candidate.label)
            labelled.add(name)
        ax.set_title(spec.label)
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if labelled:
            ax.legend(fontsize='small')
    fig.suptitle('validation curves (one line per run)', fontsize='medium')
    fig.tight_layout()
    fig.savefig(out_file, dpi=100)
    plt.close(fig)
    return out_file


def plot_study(study: StudyConfig, runs: Sequence[StudyRun],
               results: dict) -> List[str]:
    """Draw both plots into the study's work dir.

    Args:
        study (StudyConfig): The study.
        runs (Sequence[StudyRun]): Its runs.
        results (dict): As in ``results.json``.

    Returns:
        list[str]: The PNG paths.
    """
    return [
        plot_metric_bars(study, results, osp.join(study.work_dir, BAR_FILE)),
        plot_validation_curves(study, runs,
                               osp.join(study.work_dir, CURVES_FILE))
    ]
