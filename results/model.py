"""The result model: what a check found, per deployment and per rule. Frozen, renderer-neutral."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from amisec.policies.catalog import SEVERITIES, RuleMeta

if TYPE_CHECKING:
    from .topology import Topology

STATUSES = ("fail", "waived", "pass", "not_applicable")  # the order reports list them in


def severity_rank(severity: str) -> int:
    """0 for the most severe (critical) up to 4 (info); raises ValueError for an unknown word."""
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Subject:
    """A deployment element a finding names, with its source span."""

    collection: str
    index: int | None
    id: str
    kind: str
    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    @property
    def location(self) -> str:
        """`file:line:col`, clickable in editors."""
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Waiver:
    """A waiver from the deployment (`waiver RULE on ELEMENT { … }`), judged against a date."""

    rule: str
    on: str
    reason: str
    approved_by: str
    expires: str | None
    expired: bool
    file: str
    line: int
    column: int

    @property
    def location(self) -> str:
        """`file:line:col` of the waiver."""
        return f"{self.file}:{self.line}:{self.column}"

    def describe(self) -> str:
        """One sentence: reason, approver, expiry."""
        until = f"expired on {self.expires}" if self.expired else f"until {self.expires}" if self.expires else "with no expiry"
        return f"waived by {self.approved_by} {until}: {self.reason}"


@dataclass(frozen=True)
class Finding:
    """One offending element of one rule; `waiver` is the waiver that names it, if any."""

    subject: Subject
    message: str
    expected: Any
    actual: Any
    waiver: Waiver | None = None

    @property
    def waived(self) -> bool:
        """Accepted by a waiver that has not expired."""
        return self.waiver is not None and not self.waiver.expired


@dataclass(frozen=True)
class ControlRef:
    """A standard control a rule maps to."""

    standard: str
    id: str
    title: str
    verified: bool


@dataclass(frozen=True)
class RuleResult:
    """One rule's verdict on one deployment."""

    rule: RuleMeta
    status: str  # pass | fail | waived | not_applicable
    findings: tuple[Finding, ...]
    evidence: str  # what satisfied the rule (pass)
    reason: str  # why the status is what it is (fail, waived, not_applicable)
    controls: tuple[ControlRef, ...] = ()


@dataclass(frozen=True)
class WaiverNote:
    """Something the waiver register should know: a waiver that is stale or expired."""

    waiver: Waiver
    kind: str  # stale | expired
    message: str


def count_statuses(results: Iterable[RuleResult]) -> dict[str, int]:
    """How many results have each status, every status present (in STATUSES order)."""
    counts = dict.fromkeys(STATUSES, 0)
    for result in results:
        counts[result.status] += 1
    return counts


@dataclass(frozen=True)
class DeploymentReport:
    """The results of every selected rule on one deployment file."""

    file: str
    sha256: str
    name: str
    results: tuple[RuleResult, ...]
    waiver_notes: tuple[WaiverNote, ...] = ()
    topology: Topology | None = None  # domains, devices, links by worst result (for diagrams)

    def counts(self) -> dict[str, int]:
        """Results per status."""
        return count_statuses(self.results)


@dataclass(frozen=True)
class Report:
    """A whole run: tool, engine, policy set and one report per deployment."""

    tool_version: str
    engine: str
    engine_version: str
    policy_digest: str
    timestamp: str
    deployments: tuple[DeploymentReport, ...]
    standards_digest: str = ""  # sha256 of the standards catalogs and the rule → controls mapping
    baseline: str | None = None  # what `--baseline` suppressed, in one sentence

    def counts(self) -> dict[str, int]:
        """Results per status over every deployment."""
        return count_statuses(r for d in self.deployments for r in d.results)

    def failures(self, fail_on: str = "info") -> list[RuleResult]:
        """Failing results at or above the `fail_on` severity."""
        limit = severity_rank(fail_on)
        return [r for d in self.deployments for r in d.results if r.status == "fail" and severity_rank(r.rule.severity) <= limit]

    def exit_code(self, fail_on: str = "info") -> int:
        """1 when any result fails at or above `fail_on` severity, else 0."""
        return 1 if self.failures(fail_on) else 0
