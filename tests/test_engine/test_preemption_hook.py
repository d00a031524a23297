"""PreemptionHook's handlers, in this process (the scenarios with real
training processes are in ``tests/test_reliability/test_preemption.py``)."""
import os
import signal
import time

import pytest

from cmim_dense.engine import (EXIT_PREEMPTED, AtomicCheckpointHook,
                               PreemptionHook)


def test_signal_is_recorded_not_fatal_and_handlers_come_back() -> None:
    before = signal.getsignal(signal.SIGUSR1)
    hook = PreemptionHook(signals=('SIGUSR1', ))
    hook.install()
    try:
        assert hook.installed
        os.kill(os.getpid(), signal.SIGUSR1)  # default action: terminate
        deadline = time.monotonic() + 5
        while hook.received is None and time.monotonic() < deadline:
            time.sleep(0.001)
        assert hook.received == signal.SIGUSR1
        assert hook._vote() == signal.SIGUSR1  # not distributed: own flag
    finally:
        hook.uninstall()
    assert signal.getsignal(signal.SIGUSR1) is before
    assert not hook.installed


def test_no_signal_no_vote() -> None:
    assert PreemptionHook()._vote() is None


def test_bad_arguments_are_named() -> None:
    with pytest.raises(
            ValueError, match="signals must be signal names.*"
            "SIGFOO"):
        PreemptionHook(signals=('SIGTERM', 'SIGFOO'))
    with pytest.raises(ValueError, match="on_save_error must be one of"):
        AtomicCheckpointHook(interval=1, on_save_error='ignore')


def test_exit_code_is_ex_tempfail() -> None:
    assert EXIT_PREEMPTED == getattr(os, 'EX_TEMPFAIL', 75) == 75
