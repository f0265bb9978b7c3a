"""A baseline: a saved JSON report (`amisec check -f json:baseline.json`) whose failures are known
and accepted for now, so a check reports only what is new — a ratchet for legacy deployments.

A finding is in the baseline when the baseline's report of the same deployment (matched by name,
else by file) has a standing finding with the same rule id and element id. Baselined findings are
taken out of the results; a rule left with no standing finding is reported as `waived`, its reason
saying how many findings the baseline accepted, so no renderer shows it as a failure or a pass.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Iterable

from amisec.report.load import read_report
from amisec.results.model import DeploymentReport, Report, RuleResult
from amisec.results.topology import Topology, element_statuses

Key = tuple[str, str]  # (rule id, element id)


@dataclass(frozen=True)
class Baseline:
    """The standing findings of a saved report, per deployment name and per file."""

    path: str
    by_name: dict[str, frozenset[Key]]
    by_file: dict[str, frozenset[Key]]

    def keys_for(self, deployment: DeploymentReport) -> frozenset[Key] | None:
        """The baseline's findings for this deployment; None when the baseline does not know it."""
        found = self.by_name.get(deployment.name)
        return found if found is not None else self.by_file.get(_normal(deployment.file))


@dataclass(frozen=True)
class Applied:
    """A report with its baselined findings taken out, and what was taken out."""

    report: Report
    suppressed: int  # findings
    rules: int  # rules that no longer fail because of the baseline
    unknown: tuple[str, ...]  # files of deployments the baseline has no report of


def _normal(path: str) -> str:
    return os.path.normcase(os.path.normpath(os.path.abspath(path))) if path else ""


def _standing(results: Iterable[RuleResult]) -> frozenset[Key]:
    return frozenset((r.rule.id, f.subject.id) for r in results for f in r.findings if not f.waived)


def load_baseline(path: str) -> Baseline:
    """Read a JSON report as a baseline; raises ReportFormatError when it is not one."""
    report = read_report(path)
    by_name: dict[str, frozenset[Key]] = {}
    by_file: dict[str, frozenset[Key]] = {}
    for deployment in report.deployments:
        keys = _standing(deployment.results)
        by_name[deployment.name] = by_name.get(deployment.name, frozenset()) | keys
        by_file[_normal(deployment.file)] = keys
    return Baseline(path, by_name, by_file)


def _filter(result: RuleResult, keys: frozenset[Key], source: str) -> tuple[RuleResult, int]:
    """The result without its baselined findings, and how many were taken out."""
    kept = tuple(f for f in result.findings if f.waived or (result.rule.id, f.subject.id) not in keys)
    dropped = len(result.findings) - len(kept)
    if not dropped or result.status != "fail":
        return result, 0
    note = f"{dropped} finding(s) accepted by the baseline {source}"
    if any(not f.waived for f in kept):
        return replace(result, findings=kept, reason=f"{result.reason}; {note}"), dropped
    return replace(result, status="waived", findings=kept, reason=f"{note}; no new finding"), dropped


def _recolour(topology: Topology | None, results: Iterable[RuleResult]) -> Topology | None:
    """The topology with elements whose only failures were baselined no longer shown failing."""
    if topology is None:
        return None
    named = element_statuses(results)

    def status(collection: str, element_id: str, old: str) -> str:
        if old not in ("fail", "waived"):
            return old
        return named.get((collection, element_id), "waived")

    return Topology(
        tuple(replace(d, status=status("domains", d.id, d.status)) for d in topology.domains),
        tuple(replace(d, status=status("devices", d.id, d.status)) for d in topology.devices),
        tuple(replace(lk, status=status("links", lk.id, lk.status)) for lk in topology.links),
    )


def apply_baseline(report: Report, baseline: Baseline) -> Applied:
    """Take the baseline's findings out of every deployment of the report."""
    deployments, suppressed, rules, unknown = [], 0, 0, []
    source = os.path.basename(baseline.path)
    for deployment in report.deployments:
        keys = baseline.keys_for(deployment)
        if keys is None:
            unknown.append(deployment.file)
            deployments.append(deployment)
            continue
        filtered = [_filter(r, keys, source) for r in deployment.results]
        results = tuple(r for r, _ in filtered)
        suppressed += sum(n for _, n in filtered)
        rules += sum(1 for r, n in filtered if n and r.status != "fail")  # n > 0 only for results that failed
        deployments.append(replace(deployment, results=results, topology=_recolour(deployment.topology, results)))
    applied = Applied(replace(report, deployments=tuple(deployments)), suppressed, rules, tuple(unknown))
    return replace(applied, report=replace(applied.report, baseline=summary(applied, baseline.path)))


def summary(applied: Applied, path: str) -> str:
    """One line for the terminal: how many findings the baseline suppressed."""
    text = f"baseline {path}: {applied.suppressed} known finding(s) suppressed"
    if applied.rules:
        text += f" ({applied.rules} rule(s) no longer fail because of it)"
    if applied.unknown:
        text += f"; no baseline for {', '.join(applied.unknown)}: all of its findings are reported"
    return text
