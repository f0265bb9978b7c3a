"""`amisec trace`: the traceability matrix of a deployment and its gaps.

The matrix runs objective (AMI security architecture section) → rule → standard controls →
deployment elements, each with its status from a check. The gaps are the objectives no rule
checks (each with the reason a deployment description cannot show it) and the controls of the
selected standards that no rule covers. Raises the library's errors (InputError, UsageError,
EngineError); never prints.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

from amisec import __version__
from amisec.engine import get_engine
from amisec.policies.catalog import load_catalog
from amisec.policies.objectives import Objective, load_objectives, section_key
from amisec.results.evaluate import evaluate_deployment
from amisec.results.model import STATUSES, ControlRef, DeploymentReport, Finding, RuleResult
from amisec.runner import UsageError, collect_files, compile_all, controls_for, timestamp
from amisec.standards import UnknownStandardError, get_catalog, label, load_catalogs, standards_table
from amisec.standards import digest as standards_digest

# Standards whose applicability to AMI is conditional: their catalog note says when they apply, and
# every row that cites one of their controls carries that note (NERC CIP covers BES Cyber Systems
# only; PCI DSS only payment-card data).
SCOPED_STANDARDS = ("nerc_cip", "pci_dss")
NOT_CHECKABLE = "not_checkable"
NOT_RUN = "not_run"


@dataclass(frozen=True)
class TracedControl:
    """A standard control a rule maps to, as the trace shows it."""

    standard: str
    standard_name: str
    id: str
    title: str
    verified: bool
    scope_note: str = ""  # when the standard applies to AMI only in some cases

    @property
    def label(self) -> str:
        """`NISTIR 7628 Rev. 1 SG.AU-2 (unverified)`."""
        return f"{self.standard_name} {label(self.id, self.verified)}"


@dataclass(frozen=True)
class TracedElement:
    """A deployment element a rule found at fault (failing, or failing but waived)."""

    id: str
    kind: str
    file: str
    line: int
    column: int
    status: str  # fail | waived
    message: str

    @property
    def location(self) -> str:
        """`file:line:col`."""
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class TracedRule:
    """One rule's result in the trace: its controls, its elements and what it found."""

    id: str
    title: str
    severity: str
    section: str
    objective: str  # the sentence the rule's METADATA quotes
    status: str
    detail: str  # the evidence of a pass, else why the status is what it is
    controls: tuple[TracedControl, ...]
    elements: tuple[TracedElement, ...]


@dataclass(frozen=True)
class TracedObjective:
    """One objective of the document with the results of the rules that check it."""

    objective: Objective
    rules: tuple[TracedRule, ...]

    @property
    def status(self) -> str:
        """`not_checkable` for an explained gap, else the worst status of its rules."""
        if not self.objective.rules:
            return NOT_CHECKABLE
        found = [r.status for r in self.rules]
        return min(found, key=STATUSES.index) if found else NOT_RUN


@dataclass(frozen=True)
class ControlGap:
    """A control of a selected standard that no rule maps to."""

    standard: str
    standard_name: str
    id: str
    title: str
    verified: bool
    scope_note: str = ""

    @property
    def label(self) -> str:
        """`NERC CIP CIP-011-3`, marked `(unverified)` when not verified."""
        return f"{self.standard_name} {label(self.id, self.verified)}"


@dataclass(frozen=True)
class DeploymentTrace:
    """The trace of one deployment."""

    file: str
    name: str
    standards: tuple[str, ...]  # the standard keys reported
    standards_from: str  # "deployment" (its standards line) or "command line" (--standard)
    objectives: tuple[TracedObjective, ...]
    control_gaps: tuple[ControlGap, ...]
    untraced: tuple[TracedRule, ...]  # rules no objective names (custom rules)

    @property
    def matrix(self) -> tuple[TracedObjective, ...]:
        """The objectives rules check, in document order."""
        return tuple(o for o in self.objectives if o.objective.rules)

    @property
    def explained_gaps(self) -> tuple[TracedObjective, ...]:
        """The objectives no rule checks, each with the reason."""
        return tuple(o for o in self.objectives if not o.objective.rules)

    def scope_notes(self) -> dict[str, str]:
        """Standard name → scoping note, for the selected standards that have one."""
        catalogs = load_catalogs()
        return {catalogs[k].name: catalogs[k].note for k in self.standards if k in SCOPED_STANDARDS}

    def summary(self) -> dict[str, Any]:
        """Counts of objectives by status and of the selected standards' controls."""
        statuses = {s: sum(1 for o in self.matrix if o.status == s) for s in (*STATUSES, NOT_RUN)}
        total = sum(len(load_catalogs()[k].controls) for k in self.standards)
        return {
            "objectives": len(self.objectives),
            "checked": len(self.matrix),
            "not_checkable": len(self.explained_gaps),
            "status": {k: v for k, v in statuses.items() if v or k != NOT_RUN},
            "controls": {"selected": total, "covered": total - len(self.control_gaps), "uncovered": len(self.control_gaps)},
        }


@dataclass(frozen=True)
class TraceReport:
    """A trace run: what ran, and one trace per deployment."""

    tool_version: str
    engine: str
    engine_version: str
    policy_digest: str
    standards_digest: str
    timestamp: str
    deployments: tuple[DeploymentTrace, ...]


def check_standards(keys: Sequence[str]) -> tuple[str, ...]:
    """The keys, each checked to name a catalog; an unknown key is a usage error listing the known ones."""
    for key in keys:
        try:
            get_catalog(key)
        except UnknownStandardError as err:
            raise UsageError(str(err)) from None
    return tuple(dict.fromkeys(keys))


def _scope_note(standard: str) -> str:
    return load_catalogs()[standard].note if standard in SCOPED_STANDARDS else ""


def _control(ref: ControlRef) -> TracedControl:
    name = load_catalogs()[ref.standard].name
    return TracedControl(ref.standard, name, ref.id, ref.title, ref.verified, _scope_note(ref.standard))


def _element(finding: Finding) -> TracedElement:
    s = finding.subject
    return TracedElement(s.id, s.kind, s.file, s.line, s.column, "waived" if finding.waived else "fail", finding.message)


def traced_rule(result: RuleResult) -> TracedRule:
    """A rule's result as the trace shows it."""
    rule = result.rule
    detail = result.evidence if result.status == "pass" else result.reason
    return TracedRule(rule.id, rule.title, rule.severity, rule.section, rule.objective, result.status, detail,
                      tuple(_control(c) for c in result.controls), tuple(_element(f) for f in result.findings))


def control_gaps(keys: Sequence[str]) -> tuple[ControlGap, ...]:
    """The controls of these standards that no rule maps to, in catalog order."""
    catalogs = load_catalogs()
    return tuple(
        ControlGap(key, catalogs[key].name, row.id, row.title, row.verified, _scope_note(key))
        for key in keys for row in standards_table(key) if not row.rules
    )


def trace_deployment(deployment: DeploymentReport, standards: Sequence[str], standards_from: str,
                     objectives: Sequence[Objective]) -> DeploymentTrace:
    """Join one deployment's results to the objectives and the selected standards.

    The results must carry the controls of `standards` (see runner.controls_for).
    """
    by_id = {r.rule.id: traced_rule(r) for r in deployment.results}
    traced = tuple(
        TracedObjective(o, tuple(by_id[r] for r in o.rules if r in by_id))
        for o in sorted(objectives, key=lambda o: (section_key(o.section), o.id))
    )
    named = {r for o in objectives for r in o.rules}
    untraced = tuple(sorted((r for i, r in by_id.items() if i not in named), key=lambda r: r.id))
    return DeploymentTrace(deployment.file, deployment.name, tuple(standards), standards_from, traced,
                           control_gaps(standards), untraced)


def run_trace(
    paths: Sequence[str],
    *,
    standards: Sequence[str] = (),
    engine: str = "embedded",
    engine_options: Mapping[str, Any] | None = None,
    policy_dirs: Sequence[str] = (),
    today: date | None = None,
) -> TraceReport:
    """Check the deployments and trace them; `standards` (when given) replaces their standards line.

    The same pipeline as `amisec check` (runner.py), keeping each compiled input to read its
    standards line; every rule is evaluated.
    """
    override = check_standards(standards)
    catalog = load_catalog(policy_dirs)
    docs = compile_all(collect_files(paths))
    try:
        evaluator = get_engine(engine, modules=catalog.files, **(engine_options or {}))
    except ValueError as err:
        raise UsageError(str(err)) from None
    objectives = load_objectives()
    traces = []
    for doc in docs:
        keys = override or tuple(doc["deployment"].get("standards") or ())
        deployment = evaluate_deployment(catalog.rules, doc, evaluator.evaluate(doc), today=today, controls=controls_for(keys))
        traces.append(trace_deployment(deployment, keys, "command line" if override else "deployment", objectives))
    return TraceReport(__version__, evaluator.name, evaluator.version, catalog.digest, standards_digest(), timestamp(),
                       tuple(traces))
