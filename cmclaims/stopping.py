"""Stopping a run on SIGTERM or SIGINT: unwind first, then end by that signal.

A process ended by a signal's default action runs none of its `finally`
blocks: a Dask run would leave its spill folder (spilled lines, PHI) and its
worker processes behind. Inside `stop_cleanly()` the signal raises `Interrupted`
where the run is, so that every context manager cleans up (temporary files,
spill folder, cluster); the command line then ends the process by the same
signal, so that the shell, cron or systemd sees what it sent (SPEC section 1
gives no exit code of its own to a stopped run; `$?` is 128 + the signal's
number, 143 for SIGTERM, as for any process the signal ends).

Inside `deferred()` a signal waits until the block ends: starting a cluster
(a half-started one could not be closed) and the commit (the ledger, then
the renames), which is over in moments and is better finished than cut.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOPPING = (signal.SIGTERM, signal.SIGINT)


class Interrupted(BaseException):  # like KeyboardInterrupt: not an Exception, so no handler swallows it
    """The run was asked to stop by `signum`; raised where it was, so that it unwinds."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """SIGTERM, SIGINT."""
        return signal.Signals(self.signum).name


_held: list[int] = []  # signals that arrived inside deferred()
_deferring = 0  # how many deferred() blocks are open


def _stop(signum: int, frame: FrameType | None) -> None:
    if _deferring:
        _held.append(signum)
        return
    for each in STOPPING:  # the cleanup that follows is not cut short by a second signal
        signal.signal(each, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def stop_cleanly() -> Iterator[None]:
    """SIGTERM and SIGINT raise `Interrupted` inside the block (in the main thread; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {each: signal.getsignal(each) for each in STOPPING}
    for each in STOPPING:
        signal.signal(each, _stop)
    try:
        yield
    finally:
        for each, handler in previous.items():
            signal.signal(each, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT until the block ends, then stop (raise `Interrupted`) if one came."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _held:
            signum = _held[0]
            _held.clear()
            _stop(signum, None)  # raises Interrupted (an error under way is chained to it)


def end_by(signum: int) -> int:
    """End this process by `signum`'s default action (after the run has unwound); 128 + signum if it lives on."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    return 128 + signum
