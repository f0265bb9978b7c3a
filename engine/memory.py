"""How much memory evaluation may use, and how much the embedded engine takes per input value.

rego-cpp keeps every input value as nodes of about a hundred bytes each, so at utility scale the
input, not the policies, decides how much memory a check needs (100k elements: a few hundred
megabytes per process when the nodes are built directly, `_handover.Tape`; several
gigabytes through rego-cpp's own input functions). What the machine can give is the smaller of the
kernel's estimate of memory available without swapping and what the container's memory limit
leaves (CI runners are containers).
"""
from __future__ import annotations

import os
from pathlib import Path

from . import regopy_input, regopy_native

# Growth of a process per input value (as `shares.field_values` counts them) handed to rego-cpp
# 1.5.2. Nodes built directly (`_handover.Tape`, which makes equal scalars one node):
# 68 to 105 bytes on 10k and 100k-element generated plans, all packages and the largest alone;
# 257 when every string is distinct (the most it takes: only keys are shared), the figure used,
# so a plan errs towards fitting. Through `regopy_native` from rego-cpp's input functions: from 499
# to 515 bytes. Through regoSetInput, which copies the input while it holds it, 1,160 to 1,345.
# (RSS before the hand-over and after it.)
BYTES_PER_VALUE = 260 if regopy_input.builds() else 560 if regopy_native.available() else 1_400

# Use at most this share of what is available: the estimate is of the input alone, and the
# results, the report and other programs on the machine need some too.
HEADROOM = 0.8

_UNLIMITED = 1 << 60
_CGROUP_FILES = (  # (limit, usage): cgroup v2, then v1
    ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
    ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
)


def available_bytes(meminfo: str = "/proc/meminfo", cgroups: tuple[tuple[str, str], ...] = _CGROUP_FILES) -> int | None:
    """Bytes this process can still allocate without swapping or meeting its container's limit;
    None where the system does not say (not Linux)."""
    candidates = [n for n in (_meminfo_available(meminfo), _cgroup_left(cgroups)) if n is not None]
    return min(candidates) if candidates else None


def budget(available: int | None) -> float | None:
    """The bytes evaluation may plan to use out of `available`; None for no limit."""
    return None if available is None else available * HEADROOM


def _meminfo_available(path: str) -> int | None:
    try:
        for line in Path(path).read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_left(files: tuple[tuple[str, str], ...]) -> int | None:
    for limit_path, usage_path in files:
        try:
            limit_text = Path(limit_path).read_text(encoding="ascii").strip()
            if limit_text == "max":
                return None
            limit = int(limit_text)
            if limit >= _UNLIMITED:
                return None
            return max(0, limit - int(Path(usage_path).read_text(encoding="ascii").strip()))
        except (OSError, ValueError):
            continue
    return None


def resident_bytes(statm: str = "/proc/self/statm") -> int:
    """This process's resident memory (0 where the system does not say): what a forked child
    comes to hold of its own as it reads the parent's objects."""
    try:
        return int(Path(statm).read_text(encoding="ascii").split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return 0
