"""Run a share of the work in a forked process, so parsing and evaluating use every core.

Threads would not help: parsing is pure Python (the GIL), and one rego-cpp interpreter must not
be shared between threads while a second one in a thread crashed now and then. A forked child
inherits everything loaded so far copy-on-write (the parser, the policies, the compiled input),
does its share and sends the result back through a pipe, pickled. A child that dies (a crash, a
kill) or fails is reported as `ChildFailed`, never taken for an empty result.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from typing import Any, Callable

from .gc_pause import gc_paused



class ChildFailed(Exception):
    """The child process died or raised; the message says how."""


def default_jobs() -> int:
    """Processes to share large work between: the CPUs this process may use, at most 4 (each
    process holds its own copy of what it works on)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def can_fork() -> bool:
    """Whether forking is safe here: a POSIX system and no other thread (a thread holding a lock
    at the moment of the fork would leave it locked forever in the child)."""
    return hasattr(os, "fork") and sys.platform != "win32" and threading.active_count() == 1


class Forked:
    """`work()` running in a child process; `result()` waits for its value."""

    def __init__(self, work: Callable[[], Any], what: str) -> None:
        self.what = what
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into the caller's code
            os.close(read_end)
            _child(work, write_end)
        os.close(write_end)
        self.pid = pid
        self._pipe = os.fdopen(read_end, "rb")

    def result(self) -> Any:
        """The child's value; `ChildFailed` when it raised or died."""
        try:
            with self._pipe:
                data = self._pipe.read()
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
        finally:
            self.cancel()
        try:
            with gc_paused():  # millions of acyclic objects, which the collector would only rescan
                outcome, value = pickle.loads(data)
        except Exception:  # noqa: BLE001 — nothing, or half a result: the child died writing it
            raise ChildFailed(f"the process {self.what} died ({_describe(status)})") from None
        if outcome == "error":
            raise ChildFailed(f"the process {self.what} failed: {value}")
        return value

    def cancel(self) -> None:
        """Stop the child if it still runs (the parent failed or was interrupted)."""
        self._pipe.close()
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = 0


def _child(work: Callable[[], Any], write_end: int) -> None:
    status = 0
    try:
        try:
            payload: tuple[str, Any] = ("ok", work())
        except BaseException as err:  # reported, not swallowed: the parent fails with it
            payload = ("error", f"{type(err).__name__}: {err}")
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as out:
            out.write(data)
    except BaseException:
        status = 1
    finally:
        os._exit(status)  # skip the parent's atexit handlers and buffered output


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {signal.Signals(number).name}"
        except ValueError:
            return f"signal {number}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
