"""Start a study run as an ordinary ``tools/train.py`` process.

Without a launcher a run is ``python tools/train.py CONFIG --work-dir DIR
[--resume] --cfg-options ...``; with ``launcher='pytorch'`` it is one
``tools/dist_train.sh CONFIG GPUS ...`` (torchrun) launch with ``GPUS``
processes. Runs started side by side (``jobs > 1``) get their own
``PORT`` and, with the pytorch launcher, their own ``GPUS`` devices
(``CUDA_VISIBLE_DEVICES``). The run's stdout and stderr are appended to its
log file; the child stays in the tool's process group, so a Ctrl-C or a
kill of the group stops it with the tool.
"""
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .run_plan import StudyRun

LAUNCHERS = ('none', 'pytorch')


@dataclass
class LaunchSettings:
    """How runs are started.

    Args:
        train_script (str): ``tools/train.py``.
        dist_script (str, optional): ``tools/dist_train.sh`` (needed for
            ``launcher='pytorch'``).
        launcher (str): ``'none'`` or ``'pytorch'``. Defaults to ``'none'``.
        gpus (int): Processes (GPUs) per run with the pytorch launcher.
            Defaults to 1.
        port (int): Master port of the first slot; slot ``k`` uses
            ``port + k``. Defaults to 29500.
        python (str): Interpreter. Defaults to the current one.
        env (dict, optional): Extra environment variables of every run.
    """
    train_script: str
    dist_script: Optional[str] = None
    launcher: str = 'none'
    gpus: int = 1
    port: int = 29500
    python: str = sys.executable
    env: Dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.launcher not in LAUNCHERS:
            raise ValueError(f'launcher must be one of {LAUNCHERS}, got '
                             f'{self.launcher!r}')
        if self.gpus < 1:
            raise ValueError(f'gpus must be >= 1, got {self.gpus}')
        if self.launcher == 'pytorch' and not self.dist_script:
            raise ValueError("launcher='pytorch' needs dist_script "
                             '(tools/dist_train.sh)')


def train_command(run: StudyRun, resume: bool,
                  settings: LaunchSettings) -> List[str]:
    """The command line of a run.

    Args:
        run (StudyRun): The run.
        resume (bool): Resume from the work dir's latest checkpoint.
        settings (LaunchSettings): How runs are started.

    Returns:
        list[str]: The argv.
    """
    args = run.train_args(resume)
    if settings.launcher == 'pytorch':
        config, rest = args[0], args[1:]
        return ['bash', settings.dist_script, config,
                str(settings.gpus)] + rest
    return [settings.python, settings.train_script] + args


def slot_env(slot: int, jobs: int, settings: LaunchSettings) -> Dict[str, str]:
    """Environment of a run started in parallel slot ``slot``.

    Args:
        slot (int): 0-based slot (``< jobs``).
        jobs (int): Runs side by side.
        settings (LaunchSettings): How runs are started.

    Returns:
        dict[str, str]: ``os.environ`` with the settings' variables, plus
        ``PORT``/``PYTHON`` for the pytorch launcher and, with several
        slots, that slot's ``CUDA_VISIBLE_DEVICES`` (``gpus`` devices from
        ``slot * gpus``, of those visible when the tool started).
    """
    env = dict(os.environ, **settings.env)
    if settings.launcher == 'pytorch':
        env['PORT'] = str(settings.port + slot)
        env['PYTHON'] = settings.python
        for key in ('LOCAL_RANK', 'RANK', 'WORLD_SIZE'):
            env.pop(key, None)
        if jobs > 1:
            visible = os.environ.get('CUDA_VISIBLE_DEVICES')
            devices = (
                visible.split(',')
                if visible else [str(i) for i in range(jobs * settings.gpus)])
            mine = devices[slot * settings.gpus:(slot + 1) * settings.gpus]
            if len(mine) < settings.gpus:
                raise ValueError(
                    f'--jobs {jobs} x --gpus {settings.gpus} needs '
                    f'{jobs * settings.gpus} GPUs, CUDA_VISIBLE_DEVICES '
                    f'has {len(devices)}')
            env['CUDA_VISIBLE_DEVICES'] = ','.join(mine)
    return env


@dataclass
class RunningRun:
    """A started run.

    Args:
        run (StudyRun): The run.
        process (subprocess.Popen): Its process.
        slot (int): Its parallel slot.
        started (float): ``time.monotonic()`` at start.
    """
    run: StudyRun
    process: subprocess.Popen
    slot: int
    started: float


def start_run(run: StudyRun, command: List[str], env: Dict[str, str],
              slot: int) -> RunningRun:
    """Start ``command`` with its output appended to the run's log.

    Args:
        run (StudyRun): The run (its work dir is created).
        command (list[str]): From :func:`train_command`.
        env (dict[str, str]): From :func:`slot_env`.
        slot (int): The parallel slot.

    Returns:
        RunningRun: The started run.
    """
    os.makedirs(run.work_dir, exist_ok=True)
    with open(run.log_file, 'a') as log:
        log.write(f'==> {time.strftime("%Y-%m-%d %H:%M:%S")} study run '
                  f'{run.name}: {subprocess.list2cmdline(command)}\n')
        log.flush()
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env)
    return RunningRun(run, process, slot, time.monotonic())
