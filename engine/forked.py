"""Run part of an evaluation in a forked process, so the embedded engine can use a second core.

rego-cpp holds the GIL-free part of the work, but one interpreter must not be shared between
threads and a second interpreter in a thread of the same process crashed now and then; a forked
child is isolated instead: it inherits the loaded policies and the compiled input copy-on-write,
evaluates its share, and sends the result back through a pipe. A child that dies (a crash in the
engine, a kill) is reported as an engine failure, never as an empty result.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from typing import Any, Callable

from .errors import EngineError


def can_fork() -> bool:
    """Whether forking is safe here: a POSIX system and no other thread (a thread holding a lock
    at the moment of the fork would leave it locked forever in the child)."""
    return hasattr(os, "fork") and sys.platform != "win32" and threading.active_count() == 1


class Forked:
    """`work()` running in a child process; `result()` waits for its value or its EngineError."""

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
        """The child's value; EngineError when it failed or died."""
        try:
            with self._pipe:
                data = self._pipe.read()
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
        finally:
            self.cancel()
        if not data:
            raise EngineError(f"the engine process evaluating {self.what} died ({_describe(status)})",
                              ("run with --jobs 1 to evaluate in one process",))
        outcome, value = pickle.loads(data)
        if outcome == "error":
            raise EngineError(*value)
        return value

    def cancel(self) -> None:
        """Stop the child if it still runs (the parent failed or was interrupted)."""
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
        except EngineError as err:
            payload = ("error", (err.message, err.problems))
        except BaseException as err:  # reported, not swallowed: the parent fails the run with it
            payload = ("error", (f"evaluating failed: {type(err).__name__}: {err}", ()))
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
