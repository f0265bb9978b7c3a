"""What `amisec diff` and `amisec graph` do, behind the command line: load the policies, check the
versions or the plan, and hand back something to render. Raises the library's errors only
(InputError, UsageError, EngineError, ReportFormatError); never prints.
"""
from __future__ import annotations

import os
from datetime import date
from typing import Sequence

from amisec.compiler import compile_file
from amisec.engine import get_engine
from amisec.policies.catalog import load_catalog
from amisec.report.load import read_report
from amisec.results.topology import Topology
from amisec.runner import UsageError

from .diff import PlanDiff, diff_plans
from .gitrev import read_at_revision
from .graph import uncoloured
from .snapshot import make_checker


def _require_file(path: str) -> None:
    if not os.path.isfile(path):
        raise UsageError(f"{path}: no such file")


def run_diff(files: Sequence[str], revision: str | None = None, policy_dirs: Sequence[str] = (),
             today: date | None = None) -> PlanDiff:
    """Compare OLD and NEW (`files`), or FILE at `revision` with FILE as it is now."""
    expected = 1 if revision else 2
    if len(files) != expected:
        shape = "--git REV FILE (one file)" if revision else "OLD NEW (two files), or --git REV FILE"
        raise UsageError(f"diff takes {shape}; got {len(files)} file(s)")
    for path in files:
        _require_file(path)
    old_text = read_at_revision(revision, files[0]) if revision else None
    catalog = load_catalog(policy_dirs)
    checker = make_checker(catalog, get_engine("embedded", modules=catalog.files), today=today)
    if revision is not None and old_text is not None:
        path = files[0]
        old = checker.check_text(old_text, f"{path}@{revision}", f"{path} at {revision}")
        new = checker.check_file(path)
    else:
        old, new = checker.check_file(files[0]), checker.check_file(files[1])
    return diff_plans(old, new)


def _report_topology(path: str) -> Topology:
    report = read_report(path)
    if len(report.deployments) != 1:
        names = ", ".join(d.file for d in report.deployments) or "none"
        raise UsageError(f"{path} reports {len(report.deployments)} deployments ({names}); graph draws one: "
                         "save a report of that deployment alone")
    topology = report.deployments[0].topology
    if topology is None:
        raise UsageError(f"{path} carries no topology (it was saved by an older amisec); check the plan again")
    return topology


def run_graph(path: str, check: bool = False, policy_dirs: Sequence[str] = (), today: date | None = None) -> Topology:
    """The topology of a plan (coloured by a check when `check`), or the one a saved JSON report carries."""
    _require_file(path)
    if path.endswith(".json"):
        return _report_topology(path)
    if not check:
        return uncoloured(compile_file(path))
    catalog = load_catalog(policy_dirs)
    checker = make_checker(catalog, get_engine("embedded", modules=catalog.files), today=today)
    return checker.check_file(path).report.topology or Topology((), (), ())
