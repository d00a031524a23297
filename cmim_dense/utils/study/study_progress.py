"""Progress lines of a study: which run, how many left, and an ETA.

The ETA is the mean duration of the finished runs (those of this session
and the durations stored in earlier runs' completion markers) times the
runs still to finish, divided by the runs going side by side.
"""
import datetime
import math
from typing import List, Optional, TextIO


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` of a duration (``?`` if unknown)."""
    if seconds is None or not math.isfinite(seconds):
        return '?'
    return str(datetime.timedelta(seconds=int(round(seconds))))


class StudyProgress:
    """Counts a study's runs and prints one line per event.

    Args:
        total (int): Runs in the study.
        jobs (int): Runs side by side.
        stream (TextIO): Where the lines go.
    """

    def __init__(self, total: int, jobs: int, stream: TextIO) -> None:
        self.total = total
        self.jobs = max(1, jobs)
        self.stream = stream
        self.finished = 0
        self.failed = 0
        self.durations: List[float] = []

    @property
    def left(self) -> int:
        """int: Runs not finished (running ones included)."""
        return self.total - self.finished

    def eta(self) -> Optional[float]:
        """float | None: Seconds to the end, None before any duration."""
        if not self.durations:
            return None
        mean = sum(self.durations) / len(self.durations)
        return mean * self.left / min(self.jobs, max(self.left, 1))

    def _print(self, text: str) -> None:
        print(f'[study] {text}', file=self.stream, flush=True)

    def _status(self) -> str:
        return (f'{self.left} left, ETA {format_duration(self.eta())}'
                if self.left else 'none left')

    def already_done(self, index: int, name: str,
                     duration: Optional[float]) -> None:
        """A run found finished: counted, not trained.

        Args:
            index (int): Its 1-based position.
            name (str): Its name.
            duration (float, optional): Its stored duration in seconds.
        """
        self.finished += 1
        if duration is not None:
            self.durations.append(float(duration))
        self._print(f'run {index}/{self.total} {name}: already done')

    def started(self, index: int, name: str, resumed: bool,
                log_file: str) -> None:
        """A run was started.

        Args:
            index (int): Its 1-based position.
            name (str): Its name.
            resumed (bool): Whether it resumes from a checkpoint.
            log_file (str): Its log.
        """
        how = 'resuming from its last checkpoint' if resumed else 'starting'
        self._print(f'run {index}/{self.total} {name}: {how} '
                    f'({self._status()}); log: {log_file}')

    def done(self, index: int, name: str, duration: float) -> None:
        """A run finished and its metrics were found.

        Args:
            index (int): Its 1-based position.
            name (str): Its name.
            duration (float): Its wall time in seconds.
        """
        self.finished += 1
        self.durations.append(duration)
        self._print(f'run {index}/{self.total} {name}: done in '
                    f'{format_duration(duration)} ({self._status()})')

    def failed_run(self, index: int, name: str, reason: str,
                   log_file: str) -> None:
        """A run failed; the study goes on.

        Args:
            index (int): Its 1-based position.
            name (str): Its name.
            reason (str): What went wrong.
            log_file (str): Its log.
        """
        self.finished += 1
        self.failed += 1
        self._print(f'run {index}/{self.total} {name}: FAILED ({reason}); '
                    f'log: {log_file} ({self._status()})')
