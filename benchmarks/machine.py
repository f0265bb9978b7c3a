"""What the machine shows while the benchmark runs: the memory a run of processes takes, and how
fast the machine runs Python that day."""
from __future__ import annotations

import threading
import time

def memory_in_use() -> int:
    """Bytes of anonymous memory (heaps, engine inputs; a page shared by forked processes once)
    the machine has in use, where Linux says (`AnonPages`); elsewhere total less available."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("AnonPages:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import psutil

    memory = psutil.virtual_memory()
    return memory.total - memory.available


class PeakMemory:
    """The most memory in use (`memory_in_use`) beyond what was in use when sampling began,
    sampled every `every` seconds in a thread: what a run of processes takes, a page a forked
    child shares with its parent counted once, as the machine holds it. One read of the kernel's
    counters per sample, so it does not slow the run it measures, as reading every process's page
    tables for proportional set sizes did (11 s of CPU in a 30 s run at 100k elements); it counts
    whatever else runs too, so benchmark an otherwise idle machine."""

    def __init__(self, every: float = 0.05) -> None:
        self._every, self._base = every, memory_in_use()
        self._done = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, memory_in_use() - self._base)
            self._done.wait(self._every)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._done.set()
        self._thread.join()
        return self.peak


# How fast this machine runs Python today: the seconds of `sum(range(10**8))`, 1.7 on the 2-core
# machine the figures in the README were first taken on. A shared machine's speed drifts by a
# third within hours; a reading beside the figures says how far.
REFERENCE_S = 1.7


def machine_reading() -> float:
    """Seconds this process takes for `sum(range(10**8))`."""
    started = time.perf_counter()
    sum(range(10**8))
    return time.perf_counter() - started


def reading_line(before: float, after: float) -> str:
    """What the machine readings around the runs say."""
    return (f"machine: sum(range(10**8)) took {before:.2f} s before the runs and {after:.2f} s after "
            f"({REFERENCE_S} s where the README's first figures were taken; more is a slower or busier machine)")
