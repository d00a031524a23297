"""Run a study: every run not yet finished, then the tables and plots.

Runs go through :mod:`.run_launcher`, ``jobs`` at a time. A run is
finished when ``tools/train.py`` exits with 0 and its final metrics are in
its logs; its completion marker (:mod:`.run_marker`) is then written. A run
with a marker is skipped, one with a checkpoint is resumed (``--resume``),
any other is trained from the start. A failed run is reported with its log
and the other runs go on; the exit code is 1 if any run failed. On
Ctrl-C or SIGTERM the running trainings are stopped and nothing is
marked, so the next start resumes them.
"""
import signal
import sys
import time
from typing import Dict, List, Optional, TextIO

from .results_table import write_results
from .run_launcher import LaunchSettings, RunningRun, slot_env, start_run
from .run_launcher import train_command
from .run_marker import read_marker, write_marker
from .run_metrics import MetricsNotFoundError, final_and_best
from .run_metrics import validation_curve
from .run_plan import DONE, RESUME, StudyRun, plan_runs
from .study_config import StudyConfig
from .study_plots import plot_study
from .study_progress import StudyProgress

#: Seconds between polls of the running trainings.
POLL_INTERVAL = 0.2
#: Seconds a stopped training gets to exit before it is killed.
STOP_TIMEOUT = 30


class StudyInterrupted(Exception):
    """The study got SIGTERM."""


def _raise_interrupted(signum, frame):
    raise StudyInterrupted(f'signal {signum}')


def finish_run(run: StudyRun, study: StudyConfig, duration: float,
               command: List[str]) -> dict:
    """Collect a successful run's metrics and write its marker.

    Args:
        run (StudyRun): The run (``tools/train.py`` exited with 0).
        study (StudyConfig): The study.
        duration (float): Wall time of this start, in seconds.
        command (list[str]): Its command line.

    Returns:
        dict: The marker's record.

    Raises:
        MetricsNotFoundError: If its final metrics are not in its logs.
    """
    curve = validation_curve(run.work_dir, [m.key for m in study.metrics])
    final, best, best_step = final_and_best(curve, study.metrics, run.work_dir)
    record = dict(
        candidate=run.candidate.name,
        seed=run.seed,
        final=final,
        best=best,
        best_step=best_step,
        final_step=max(curve),
        duration_s=duration,
        finished_at=time.strftime('%Y-%m-%d %H:%M:%S'),
        command=command)
    write_marker(run.work_dir, record)
    return record


class StudyRunner:
    """Runs the unfinished runs of a study and writes its results.

    Args:
        study (StudyConfig): The study.
        settings (LaunchSettings): How runs are started.
        jobs (int): Runs side by side. Defaults to 1.
        stream (TextIO): Progress output. Defaults to stdout.
    """

    def __init__(self,
                 study: StudyConfig,
                 settings: LaunchSettings,
                 jobs: int = 1,
                 stream: Optional[TextIO] = None) -> None:
        if jobs < 1:
            raise ValueError(f'jobs must be >= 1, got {jobs}')
        self.study = study
        self.settings = settings
        self.jobs = jobs
        self.stream = stream or sys.stdout
        self.runs = plan_runs(study)
        self.failures: Dict[str, dict] = {}

    def _say(self, text: str) -> None:
        print(f'[study] {text}', file=self.stream, flush=True)

    def _end(self, running: RunningRun, progress: StudyProgress) -> None:
        run = running.run
        code = running.process.returncode
        duration = time.monotonic() - running.started
        if code != 0:
            reason = f'exit code {code}'
        else:
            try:
                finish_run(run, self.study, duration, running.process.args)
                progress.done(run.index, run.name, duration)
                return
            except MetricsNotFoundError as err:
                reason = str(err)
        self.failures[run.name] = dict(reason=reason, log=run.log_file)
        progress.failed_run(run.index, run.name, reason, run.log_file)

    def _stop(self, running: List[RunningRun]) -> None:
        for item in running:
            if item.process.poll() is None:
                item.process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for item in running:
            try:
                item.process.wait(max(0.1, deadline - time.monotonic()))
            except Exception:
                item.process.kill()
                item.process.wait()

    def train(self) -> None:
        """Train every unfinished run (``jobs`` at a time)."""
        progress = StudyProgress(len(self.runs), self.jobs, self.stream)
        pending = []
        for run in self.runs:
            if run.state() == DONE:
                marker = read_marker(run.work_dir)
                progress.already_done(run.index, run.name,
                                      marker.get('duration_s'))
            else:
                pending.append(run)
        running: List[RunningRun] = []
        previous = signal.getsignal(signal.SIGTERM)
        signal.signal(signal.SIGTERM, _raise_interrupted)
        try:
            while pending or running:
                free = [
                    s for s in range(self.jobs)
                    if s not in {r.slot
                                 for r in running}
                ]
                while pending and free:
                    run, slot = pending.pop(0), free.pop(0)
                    resume = run.state() == RESUME
                    command = train_command(run, resume, self.settings)
                    env = slot_env(slot, self.jobs, self.settings)
                    progress.started(run.index, run.name, resume, run.log_file)
                    running.append(start_run(run, command, env, slot))
                time.sleep(POLL_INTERVAL)
                for item in [
                        r for r in running if r.process.poll() is not None
                ]:
                    running.remove(item)
                    self._end(item, progress)
        except (KeyboardInterrupt, StudyInterrupted):
            self._say('interrupted: stopping the running trainings; start '
                      'the study again to resume')
            self._stop(running)
            raise
        finally:
            signal.signal(signal.SIGTERM, previous)

    def collect(self) -> dict:
        """Write ``results.{csv,json,md}`` and the plots of finished runs.

        Returns:
            dict: The results (as in ``results.json``).
        """
        results = write_results(self.study, self.runs, self.failures)
        plot_study(self.study, self.runs, results)
        self._say(f'results: {self.study.work_dir}/results.md')
        return results

    def run(self, train: bool = True) -> int:
        """Train (unless ``train`` is False), collect, report failures.

        Args:
            train (bool): Train unfinished runs first. Defaults to True.

        Returns:
            int: 0 if every run is finished, else 1.
        """
        if train:
            self.train()
        self.collect()
        unfinished = [r for r in self.runs if r.state() != DONE]
        for run in unfinished:
            failure = self.failures.get(run.name)
            if failure:
                self._say(f'FAILED: {run.name} ({failure["reason"]}); log: '
                          f'{failure["log"]}')
            else:
                self._say(f'not run: {run.name}')
        return 1 if unfinished else 0
