"""The runs of a study: one per candidate and seed, each in its own folder.

Runs are ordered seed by seed (every candidate's seed 0 first), so that an
interrupted study already holds one run of every candidate. A run's work
dir is ``<study work dir>/<candidate name>/seed_<seed>``.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, List

from .cfg_options import to_cfg_options_args
from .run_marker import read_marker
from .study_config import Candidate, StudyConfig

#: File (in the run's work dir) that receives the run's stdout and stderr.
LOG_FILE = 'study_train.log'
#: mmengine's pointer to the latest checkpoint of a work dir.
LAST_CHECKPOINT_FILE = 'last_checkpoint'

#: A finished run (completion marker present): never trained again.
DONE = 'done'
#: A half-finished run with a checkpoint: resumed with ``--resume``.
RESUME = 'resume'
#: A run without a checkpoint: trained from the start.
NEW = 'new'


@dataclass(frozen=True)
class StudyRun:
    """One training run of a study.

    Args:
        index (int): 1-based position in the study.
        candidate (Candidate): Its candidate.
        seed (int): Its seed (``randomness.seed``).
        work_dir (str): Its own work dir.
    """
    index: int
    candidate: Candidate
    seed: int
    work_dir: str

    @property
    def name(self) -> str:
        """str: ``<candidate name>/seed_<seed>``."""
        return f'{self.candidate.name}/seed_{self.seed}'

    @property
    def log_file(self) -> str:
        """str: Where the run's output goes."""
        return osp.join(self.work_dir, LOG_FILE)

    def cfg_options(self) -> Dict[str, Any]:
        """dict: The candidate's overrides plus the seed."""
        return {**self.candidate.cfg_options, 'randomness.seed': self.seed}

    def train_args(self, resume: bool) -> List[str]:
        """Arguments of ``tools/train.py`` for this run.

        Args:
            resume (bool): Add ``--resume`` (latest checkpoint of the work
                dir).

        Returns:
            list[str]: ``CONFIG --work-dir DIR [--resume] --cfg-options ...``.
        """
        args = [self.candidate.config, '--work-dir', self.work_dir]
        if resume:
            args.append('--resume')
        return args + ['--cfg-options'] + to_cfg_options_args(
            self.cfg_options())

    def state(self) -> str:
        """str: :data:`DONE`, :data:`RESUME` or :data:`NEW`."""
        if read_marker(self.work_dir) is not None:
            return DONE
        if osp.isfile(osp.join(self.work_dir, LAST_CHECKPOINT_FILE)):
            return RESUME
        return NEW


def plan_runs(study: StudyConfig) -> List[StudyRun]:
    """All runs of ``study``, seed by seed, candidates in config order.

    Args:
        study (StudyConfig): The study.

    Returns:
        list[StudyRun]: ``len(seeds) * len(candidates)`` runs.
    """
    runs = []
    for seed in study.seeds:
        for candidate in study.candidates:
            runs.append(
                StudyRun(
                    index=len(runs) + 1,
                    candidate=candidate,
                    seed=seed,
                    work_dir=osp.join(study.work_dir, candidate.name,
                                      f'seed_{seed}')))
    return runs
