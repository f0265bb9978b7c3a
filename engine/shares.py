"""Share rule packages out between the processes that evaluate them.

Packages differ widely in cost (at 10k elements from 0.2 s to 2.8 s) and their cost cannot be
read off their text (a long package about agreements is cheap, a short one about every device is
not). So shares are balanced by what each package took the last time these policies evaluated a
large input — kept in the cache beside the compiled bundle — and, before any such run, by the
number of code lines. Balance only moves work between processes; it never changes a result.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

from ..cache import cache_dir, store_atomically


def _path(key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{key}.costs.json"


def code_lines(source: str) -> int:
    """Lines of a module that are neither blank nor comments (METADATA included)."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))


def weights(key: str, fallback: Mapping[str, float]) -> dict[str, float]:
    """Each package's cost: measured seconds when these policies ran before, else `fallback`."""
    path = _path(key)
    try:
        measured = json.loads(path.read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        measured = {}
    if isinstance(measured, dict) and set(measured) == set(fallback) \
            and all(isinstance(v, (int, float)) for v in measured.values()):
        return {k: float(v) for k, v in measured.items()}
    return dict(fallback)


def record(key: str, seconds: Mapping[str, float]) -> None:
    """Remember what each package took, for balancing the next run."""
    path = _path(key)
    if path is None:
        return
    try:
        store_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(dict(seconds), sort_keys=True), encoding="utf-8"))
    except OSError:
        pass  # a read-only home: balance by code size next time too


def balanced(packages: Sequence[str], cost: Mapping[str, float], count: int) -> list[tuple[str, ...]]:
    """`count` shares of the packages with costs as even as possible (longest first, each to the
    lightest share); every share keeps the packages' original order."""
    loads = [0.0] * count
    owner: dict[str, int] = {}
    for package in sorted(packages, key=lambda p: -cost.get(p, 0.0)):
        lightest = loads.index(min(loads))
        owner[package] = lightest
        loads[lightest] += cost.get(package, 0.0)
    shares = [tuple(p for p in packages if owner[p] == n) for n in range(count)]
    return [share for share in shares if share]
