"""Run a study: candidates x seeds, each an ordinary ``tools/train.py`` run,
then a results table with uncertainty and plots.

Usage::

    python tools/analysis_tools/run_study.py STUDY_CONFIG [--work-dir DIR]
        [--jobs N] [--launcher {none,pytorch}] [--gpus N] [--port PORT]
        [--collect-only] [--dry-run]

The study config (see ``configs/studies/`` and ``docs/study.md``) lists the
candidates (a training config and its ``cfg_options``; a CMIM candidate
names its ``baseline``), the seeds and the metrics (with their direction).
Each run trains in ``<work dir>/<candidate>/seed_<seed>``. Starting the
tool again never redoes a finished run (it has a ``study_run.json``
marker), resumes a half-finished one from its last checkpoint, and
retries a failed one. The study's work dir receives ``results.md``,
``results.csv``, ``results.json``, ``runs.csv``, ``metrics_bar.png`` and
``val_curves.png``. The exit code is 1 if any run failed (or, with
``--collect-only``, is not finished).
"""
import argparse
import importlib.util
import os.path as osp
import shlex
import sys
from typing import List, Optional

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if importlib.util.find_spec('cmim_dense') is None:  # run from a checkout
    sys.path.insert(0, ROOT)

from cmim_dense.utils.study import (
    LaunchSettings,  # noqa: E402
    StudyConfigError,
    StudyRunner,
    load_study_config)
from cmim_dense.utils.study.run_launcher import train_command  # noqa: E402
from cmim_dense.utils.study.run_plan import RESUME  # noqa: E402
from cmim_dense.utils.study.study_runner import StudyInterrupted  # noqa

TRAIN_SCRIPT = osp.join(ROOT, 'tools', 'train.py')
DIST_SCRIPT = osp.join(ROOT, 'tools', 'dist_train.sh')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.

    Returns:
        argparse.Namespace: The arguments.
    """
    parser = argparse.ArgumentParser(
        description='run a study (candidates x seeds) and report it')
    parser.add_argument('config', help='study config file')
    parser.add_argument(
        '--work-dir',
        help="the study's work dir (default: the config's "
        '`work_dir`, else ./work_dirs/studies/<config name>)')
    parser.add_argument(
        '--jobs', type=int, default=1, help='runs side by side (default 1)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch'],
        default='none',
        help='pytorch: each run is one tools/dist_train.sh (torchrun) '
        'launch of --gpus processes')
    parser.add_argument(
        '--gpus',
        type=int,
        default=1,
        help='processes (GPUs) per run with --launcher pytorch')
    parser.add_argument(
        '--port',
        type=int,
        default=29500,
        help='master port of the first parallel slot (slot k: PORT + k)')
    parser.add_argument(
        '--collect-only',
        action='store_true',
        help='only write the tables and plots of the finished runs')
    parser.add_argument(
        '--dry-run',
        action='store_true',
        help='print each run\'s state and command, train nothing')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    if args.gpus < 1:
        parser.error(f'--gpus must be >= 1, got {args.gpus}')
    if args.gpus > 1 and args.launcher != 'pytorch':
        parser.error('--gpus needs --launcher pytorch')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the study from the command line.

    Args:
        argv (list[str], optional): Arguments without the program name.

    Returns:
        int: The exit code (0: every run finished).
    """
    args = parse_args(argv)
    try:
        study = load_study_config(args.config, args.work_dir)
    except (FileNotFoundError, StudyConfigError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    settings = LaunchSettings(
        train_script=TRAIN_SCRIPT,
        dist_script=DIST_SCRIPT,
        launcher=args.launcher,
        gpus=args.gpus,
        port=args.port)
    runner = StudyRunner(study, settings, jobs=args.jobs)
    if args.dry_run:
        for run in runner.runs:
            state = run.state()
            command = train_command(run, state == RESUME, settings)
            print(f'run {run.index}/{len(runner.runs)} {run.name} [{state}]: '
                  f'{shlex.join(command)}')
        return 0
    try:
        return runner.run(train=not args.collect_only)
    except KeyboardInterrupt:
        return 130
    except StudyInterrupted:  # SIGTERM
        return 143


if __name__ == '__main__':
    sys.exit(main())
