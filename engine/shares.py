"""Share rule packages out between the processes that evaluate them.

A process's time is, for each of its packages, the hand-over of the package's input (linear in its
values) and the package's evaluation. Packages differ widely in evaluation cost (at 10k elements from 0.2 s to
2 s) and that cost cannot be read off their text (a long package about agreements is cheap, a
short one about every device is not), so each package's seconds, and the hand-over's seconds per
value, are kept from the last time these policies evaluated a large input (in the cache beside the
compiled bundle). Before any such run on this machine (a fresh CI runner, a new install) the
profile measured for the built-in packages (`measured_costs.json`, written by `python -m
benchmarks.run --save-costs`) stands in, and where the packages are not those, code lines stand in
for seconds. Two shares are chosen by
trying every split; more by giving each package, costliest first, to the lightest share. Balance
only moves work between processes; it never changes a result. Each process hands its packages
over one after another, each on an input of its own fields (`planned`); when memory is short,
fewer processes run.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping, Sequence

from ..cache import cache_dir, store_atomically

# Trying all 2^(n-1) splits takes a few tens of milliseconds up to this many packages.
_EXHAUSTIVE_UP_TO = 14


@dataclass(frozen=True)
class Costs:
    """What balancing knows: each package's evaluation seconds (saved per element of the input),
    and the hand-over's seconds per input value."""

    seconds: dict[str, float]
    per_value: float = 0.0


def _path(key: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{key}.costs.json"


def code_lines(source: str) -> int:
    """Lines of a module that are neither blank nor comments (METADATA included)."""
    return sum(1 for line in source.splitlines() if line.strip() and not line.lstrip().startswith("#"))


# The built-in packages' costs as measured for a release.
SHIPPED = Path(__file__).with_name("measured_costs.json")


def costs(key: str, fallback: Mapping[str, float]) -> Costs:
    """The costs measured when these policies last ran on a large input; else the shipped profile
    if it prices exactly these packages; else `fallback` seconds."""
    path = _path(key)
    for source in ([path] if path else []) + [SHIPPED]:
        known = _read(source, set(fallback))
        if known is not None:
            return known
    return Costs(dict(fallback))


def _read(path: Path, packages: set[str] | None) -> Costs | None:
    """The costs saved at `path` if they are well formed and price exactly `packages` (None: any)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        seconds, per_value = data["seconds"], float(data["per_value"])
        if (packages is None or set(seconds) == packages) and all(isinstance(v, (int, float)) for v in seconds.values()):
            return Costs({k: float(v) for k, v in seconds.items()}, per_value)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def saved(key: str) -> Costs | None:
    """What the last large run of the policies with this key recorded, if anything."""
    path = _path(key)
    return None if path is None else _read(path, None)


def write_profile(path: Path, measured: Costs) -> None:
    """Write `measured` as a costs profile (the format `record` keeps)."""
    path.write_text(_text(measured) + "\n", encoding="utf-8")


def _text(measured: Costs) -> str:
    return json.dumps({"seconds": measured.seconds, "per_value": measured.per_value}, sort_keys=True, indent=1)


def record(key: str, measured: Costs) -> None:
    """Remember what each package and the hand-over took, for balancing the next run."""
    path = _path(key)
    if path is None:
        return
    text = _text(measured)
    try:
        store_atomically(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    except OSError:
        pass  # a read-only home: balance by code size next time too


# Elements sampled per collection to estimate its values: lists (what a link carries, a flow's
# path) vary in length from element to element, and the first is no better a guess than any.
_SAMPLED = 32


def field_values(doc: Mapping[str, Any]) -> dict[tuple[str, str], float]:
    """Roughly how many input values each field brings to a hand-over, by (top-level key, field
    name): per collection, the mean count for the field over elements sampled evenly, times the
    collection's length; each map of the `index`, handed over whole, under its own name."""
    out: dict[tuple[str, str], float] = {}
    for key, collection in doc.items():
        if isinstance(collection, list) and collection and isinstance(collection[0], dict):
            step = max(1, len(collection) // _SAMPLED)
            sample = [e for e in collection[::step] if isinstance(e, dict)]
            for field in collection[0]:
                mean = sum(2 + _values(e[field]) for e in sample if field in e) / len(sample)
                out[key, field] = len(collection) * mean
    index = doc.get("index")
    if isinstance(index, dict):
        for name, positions in index.items():
            out["index", name] = 2 + _values(positions)
    return out


def _values(value: Any) -> int:
    if isinstance(value, dict):
        return sum(2 + _values(v) for v in value.values())
    if isinstance(value, list):
        return sum(1 + _values(v) for v in value)
    return 0


def share_values(share: Sequence[str], needs: Mapping[str, frozenset[Hashable]], sizes: Mapping[Hashable, float]) -> float:
    """The input values a process evaluating `share` is handed."""
    fields = frozenset().union(*(needs.get(p, frozenset()) for p in share))
    return sum(sizes.get(f, 0.0) for f in fields)


def _cost(package: str, known: Costs, values: Mapping[str, float]) -> float:
    """A package's seconds handed over on its own input and evaluated."""
    return known.seconds.get(package, 0.0) + known.per_value * values.get(package, 0.0)


def _two_shares(packages: Sequence[str], cost: Sequence[float]) -> list[tuple[str, ...]]:
    """Of every split of the packages in two (the first package in the first share), the one whose
    slower share finishes first; each subset's seconds are a smaller subset's plus one package's."""
    n = len(packages)
    subset_seconds = [0.0] * (1 << n)
    for subset in range(1, 1 << n):
        low = subset & -subset
        subset_seconds[subset] = subset_seconds[subset ^ low] + cost[n - low.bit_length()]
    everything = (1 << n) - 1
    two = min(range(1 << (n - 1)), key=lambda subset: max(subset_seconds[everything ^ subset], subset_seconds[subset]))
    shares = [tuple(p for k, p in enumerate(packages) if not two >> (n - 1 - k) & 1),
              tuple(p for k, p in enumerate(packages) if two >> (n - 1 - k) & 1)]
    return [share for share in shares if share]


def balanced(packages: Sequence[str], known: Costs, count: int,
             values: Mapping[str, float] | None = None) -> list[tuple[str, ...]]:
    """Up to `count` shares of the packages whose slowest process is as fast as can be found, each
    package costing its seconds and the hand-over of its `values` (package -> input values handed
    over for it alone). Every share keeps the packages' original order."""
    cost = [_cost(p, known, values or {}) for p in packages]
    if count == 2 and 2 < len(packages) <= _EXHAUSTIVE_UP_TO:
        return _two_shares(packages, cost)
    loads = [0.0] * count
    owner: dict[str, int] = {}
    for k in sorted(range(len(packages)), key=lambda k: -cost[k]):
        lightest = loads.index(min(loads))
        owner[packages[k]] = lightest
        loads[lightest] += cost[k]
    shares = [tuple(p for p in packages if owner[p] == n) for n in range(count)]
    return [share for share in shares if share]


def planned(packages: Sequence[str], known: Costs, jobs: int, values: Mapping[str, float], memory: float | None,
            per_value_bytes: float, child_bytes: float) -> list[list[tuple[str, ...]]]:
    """Per process, its packages, each handed over on its own input and evaluated before the next
    is handed over (at utility scale faster than one input of every field: keys are found sooner
    in a package's own input, and rego-cpp builds it in the memory the last one freed; `joined`
    then lets a package share an input that nearly covers its own).

    `values`: package -> its input's values. The most processes, up to `jobs`, whose largest
    inputs fit in `memory` bytes (None: no limit) together, each forked child also counting the
    `child_bytes` of the document it copies as it reads it; one process when none fit.
    """
    shares = [tuple(packages)]
    for count in range(jobs, 1, -1):
        split = balanced(packages, known, count, values)
        largest = sum(max(values.get(p, 0.0) for p in share) for share in split)
        if memory is None or largest * per_value_bytes + (len(split) - 1) * child_bytes <= memory:
            shares = split
            break
    return [[(p,) for p in share] for share in shares]


def joined(groups: Sequence[tuple[str, ...]], values: Callable[[tuple[str, ...]], float]) -> list[tuple[str, ...]]:
    """One process's groups with each joined to an earlier, larger one whose input it hardly adds
    to: by at most half its own values, and to no more than the largest input already among them,
    so the memory the plan was priced at holds. A hand-over and the freeing of an input are each
    about half a second per million values (100k elements: diagnostics's fields are all among
    confidentiality's), against a little more input to scan for the larger group's rules."""
    if len(groups) < 2:
        return list(groups)
    ceiling = max(values(g) for g in groups)
    out: list[tuple[str, ...]] = []
    for group in sorted(groups, key=values, reverse=True):
        fits = [(union, i) for i, other in enumerate(out)
                if (union := values(other + group)) <= ceiling and union - values(other) <= values(group) / 2]
        if fits:
            out[min(fits)[1]] += group
        else:
            out.append(group)
    return out
