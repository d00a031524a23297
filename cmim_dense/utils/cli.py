"""What ``tools/train.py`` and ``tools/test.py`` share.

Both follow mmseg 1.x's command lines; this module holds their common
arguments (``--work-dir``, ``--cfg-options``, ``--launcher``,
``--local_rank``), how those are applied to a config, how the runner is
built, and how a distributed run is shut down.
"""
import argparse
import contextlib
import os
import os.path as osp
from typing import Iterator, List, Optional

import torch.distributed as dist
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

CFG_OPTIONS_HELP = (
    'override some settings in the used config, the key-value pair in '
    'xxx=yyy format will be merged into config file. If the value to be '
    'overwritten is a list, it should be like key="[a,b]" or key=a,b. It '
    'also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]". Note '
    'that the quotation marks are necessary and that no white space is '
    'allowed.')


def add_runner_args(parser: argparse.ArgumentParser,
                    work_dir_help: str) -> None:
    """Add ``--work-dir``, ``--cfg-options``, ``--launcher``, ``--local_rank``.

    Args:
        parser (ArgumentParser): The tool's parser.
        work_dir_help (str): Help of ``--work-dir`` for this tool.
    """
    parser.add_argument('--work-dir', help=work_dir_help)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help=CFG_OPTIONS_HELP)
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes `--local-rank` with torch >= 2.0 and
    # `--local_rank` before; torchrun sets the LOCAL_RANK variable instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser: argparse.ArgumentParser,
                      argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse, then set ``LOCAL_RANK`` from ``--local_rank`` unless set.

    Args:
        parser (ArgumentParser): Parser with :func:`add_runner_args` applied.
        argv (list[str], optional): Arguments without the program name.
            Defaults to None (``sys.argv[1:]``).
    """
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_runner_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply launcher, ``--cfg-options`` and the work directory to ``cfg``.

    The work directory is ``--work-dir``, else the config's ``work_dir``,
    else ``./work_dirs/<config file stem>``.

    Args:
        cfg (Config): The config loaded from ``args.config``; changed in
            place.
        args (argparse.Namespace): The parsed command line.

    Returns:
        Config: The same config.
    """
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


class ConfigBuildError(RuntimeError):
    """Building the runner from a config failed (the cause is chained)."""


def build_runner(cfg: Config) -> Runner:
    """Build the runner, from mmseg's ``RUNNERS`` if ``runner_type`` is set.

    A build error (unknown ``type``, wrong argument, ...) of a config read
    from a file is re-raised with the file's path added to its message, as
    the same exception type where it can be made from one message (else
    :class:`ConfigBuildError`), the original chained.

    Args:
        cfg (Config): The complete config.

    Returns:
        Runner: The runner.
    """
    try:
        if 'runner_type' in cfg:
            from mmseg.registry import RUNNERS
            return RUNNERS.build(cfg)
        return Runner.from_cfg(cfg)
    except Exception as err:
        if not cfg.filename:
            raise
        raise _with_config_path(err, cfg.filename) from err


def _with_config_path(err: Exception, path: str) -> Exception:
    """A new exception like ``err`` whose message names the config file."""
    text = err.args[0] if len(err.args) == 1 and isinstance(err.args[0],
                                                            str) else str(err)
    message = f'{text} (while building the runner from config {path})'
    try:
        new = type(err)(message)
    except Exception:  # a type that cannot be made from one message
        return ConfigBuildError(f'{type(err).__name__}: {message}')
    return new if path in str(new) else ConfigBuildError(message)


@contextlib.contextmanager
def distributed_shutdown() -> Iterator[None]:
    """Destroy the default process group when the block ends.

    mmengine's ``Runner`` initialises ``torch.distributed`` (``launcher``
    other than ``'none'``) but never destroys the process group, so every
    rank tears it down during interpreter finalisation. With gloo this
    races with its worker threads: now and then a rank aborts with
    "terminate called without an active exception" (SIGABRT) after the
    run has finished and its checkpoint is written, and torchrun reports
    the whole job as failed. PyTorch asks every process to call
    ``destroy_process_group()`` before it exits; this does so.

    When the block ends normally, the ranks first meet at a barrier, so
    that none leaves while another still talks to it. When it raises
    (an error, a preemption's ``SystemExit``), the group is destroyed
    without a barrier (the other ranks may never reach one) and the
    exception goes on. Outside a distributed run this does nothing.

    Yields:
        None
    """
    try:
        yield
    except BaseException:
        _destroy_process_group(barrier=False)
        raise
    _destroy_process_group(barrier=True)


def _destroy_process_group(barrier: bool) -> None:
    """Destroy the default process group if there is one."""
    if not (dist.is_available() and dist.is_initialized()):
        return
    if barrier:
        dist.barrier()
    dist.destroy_process_group()
