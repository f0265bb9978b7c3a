"""Join the engine's raw rule output to the rules' METADATA: one verdict per rule.

Fail closed: a rule of the catalog that is missing from the engine output, or whose output is
malformed, is an engine error — a rule that did not evaluate is never reported as passing.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Callable, Collection, Mapping, Sequence

from amisec.engine.errors import EngineError
from amisec.policies.catalog import RuleMeta

from . import waivers as waiver_rules
from .elements import ElementNotFound, element, element_id, subject_of
from .model import ControlRef, DeploymentReport, Finding, RuleResult, Waiver

ControlsOf = Callable[[RuleMeta], Sequence[ControlRef]]
_VIOLATION_FIELDS = ("collection", "index", "message", "expected", "actual")
_SHOWN_IDS = 5


def _where(rule: RuleMeta) -> str:
    return f"rule {rule.id} ({rule.package}.{rule.name} at {rule.path}:{rule.line})"


def _lookup(raw: Mapping[str, Any], rule: RuleMeta) -> Any:
    node: Any = raw
    for key in (*rule.family.split("."), rule.name):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _rule_output(raw: Mapping[str, Any], rule: RuleMeta) -> tuple[list[Any], list[Any]]:
    out = _lookup(raw, rule)
    if out is None:
        raise EngineError(f"{_where(rule)} produced no result: it did not evaluate (an undefined value in its body?), "
                          "so it cannot be reported as passing")
    if not isinstance(out, dict) or not isinstance(out.get("subjects"), list) or not isinstance(out.get("violations"), list):
        raise EngineError(f"{_where(rule)} must evaluate to {{\"subjects\": [...], \"violations\": [...]}}")
    return out["subjects"], out["violations"]


def _unannotated(node: Mapping[str, Any], path: str, known: set[str]) -> list[str]:
    """Dotted paths of values in the output that are neither helpers (`_x`) nor catalogued rules."""
    found = []
    for key, value in node.items():
        dotted = f"{path}.{key}" if path else key
        if key.startswith("_") or dotted in known:
            continue
        if isinstance(value, dict) and not {"subjects", "violations"} <= set(value):
            found += _unannotated(value, dotted, known)
        else:
            found.append(dotted)
    return found


def check_output(rules: Sequence[RuleMeta], raw: Mapping[str, Any]) -> None:
    """Every rule present with both arrays, and nothing in the output that has no METADATA."""
    for rule in rules:
        _rule_output(raw, rule)
    stray = _unannotated(raw, "", {f"{r.family}.{r.name}" for r in rules})
    if stray:
        problems = tuple(f"data.amisec.rules.{p}" for p in stray)
        raise EngineError("values in the rule packages have no METADATA (helpers start with '_')", problems)


def _finding(doc: Mapping[str, Any], rule: RuleMeta, violation: Any) -> Finding:
    if not isinstance(violation, dict) or any(k not in violation for k in _VIOLATION_FIELDS):
        raise EngineError(f"{_where(rule)} gave a violation not built with lib.violation: {violation!r}")
    try:
        subject = subject_of(doc, violation["collection"], violation["index"])
    except ElementNotFound as err:
        raise EngineError(f"{_where(rule)} names an element that does not exist: {err}") from None
    return Finding(subject, str(violation["message"]), violation["expected"], violation["actual"])


def _findings(doc: Mapping[str, Any], rule: RuleMeta, violations: list[Any], waivers: Sequence[Waiver]) -> tuple[Finding, ...]:
    unique = {}
    for violation in violations:
        finding = _finding(doc, rule, violation)
        unique.setdefault((finding.subject.collection, finding.subject.index, finding.message), finding)
    ordered = sorted(unique.values(), key=lambda f: (f.subject.file, f.subject.line, f.subject.column, f.subject.id, f.message))
    return waiver_rules.attach(rule.id, ordered, waivers)


def _subject_ids(doc: Mapping[str, Any], rule: RuleMeta, subjects: list[Any]) -> list[str]:
    """The subjects' ids, each once, in source order: a rule may list its positions in any order."""
    if all(type(i) is int for i in subjects):
        subjects = sorted(set(subjects))
    try:
        ids = [element_id(element(doc, rule.subject, i), rule.subject) for i in subjects]
    except ElementNotFound as err:
        raise EngineError(f"{_where(rule)} lists a subject that does not exist: {err}") from None
    return list(dict.fromkeys(ids))


def _evidence(rule: RuleMeta, ids: list[str]) -> str:
    shown = ", ".join(ids[:_SHOWN_IDS])
    if len(ids) > _SHOWN_IDS:
        shown += f" and {len(ids) - _SHOWN_IDS} more"
    return rule.evidence.replace("{n}", str(len(ids))).replace("{ids}", shown)


def _not_applicable_reason(doc: Mapping[str, Any], rule: RuleMeta) -> str:
    total = 1 if rule.subject == "deployment" else len(doc.get(rule.subject) or [])
    scope = f"none of its {total} {rule.subject} is in the rule's scope" if total else f"it has no {rule.subject}"
    return f"nothing in the deployment it applies to: {scope}"


def _fail_reason(rule: RuleMeta, findings: tuple[Finding, ...], examined: int) -> str:
    standing = [f for f in findings if not f.waived]
    parts = [f"fails for {len(standing)} of {max(examined, len(findings))} {rule.subject}"]
    if len(standing) < len(findings):
        parts.append(f"{len(findings) - len(standing)} waived")
    parts += [f"the waiver for {f.subject.id} expired on {f.waiver.expires}" for f in standing if f.waiver]
    return "; ".join(parts)


def judge(rule: RuleMeta, doc: Mapping[str, Any], raw: Mapping[str, Any], waivers: Sequence[Waiver]) -> tuple[str, tuple[Finding, ...], str, str]:
    """(status, findings, evidence, reason) of one rule on one deployment."""
    enabled = doc.get("deployment", {}).get("use_cases") or []
    if rule.use_cases and not set(rule.use_cases) & set(enabled):
        return "not_applicable", (), "", f"applies only when the deployment enables one of: {', '.join(rule.use_cases)}"
    subjects, violations = _rule_output(raw, rule)
    ids = _subject_ids(doc, rule, subjects)
    findings = _findings(doc, rule, violations, waivers)
    if findings and all(f.waived for f in findings):
        reasons = "; ".join(f"{f.subject.id}: {f.waiver.describe()}" for f in findings if f.waiver)
        return "waived", findings, "", reasons
    if findings:
        return "fail", findings, "", _fail_reason(rule, findings, len(ids))
    if not ids:
        return "not_applicable", (), "", _not_applicable_reason(doc, rule)
    return "pass", (), _evidence(rule, ids), ""


def evaluate_deployment(
    rules: Sequence[RuleMeta],
    doc: Mapping[str, Any],
    raw: Mapping[str, Any],
    *,
    select: Collection[str] | None = None,
    today: date | None = None,
    controls: ControlsOf | None = None,
) -> DeploymentReport:
    """One deployment's report: a result for each rule in `select` (all rules when None).

    `rules` is the whole catalog: the engine output is checked against all of it, and waivers may
    name any of its rules. Raises EngineError (fail closed) and InputError (unknown waiver rule).
    """
    check_output(rules, raw)
    waivers = waiver_rules.read_waivers(doc, {r.id for r in rules}, today or waiver_rules.default_today())
    chosen = sorted((r for r in rules if select is None or r.id in select), key=lambda r: r.id)
    results = []
    for rule in chosen:
        status, findings, evidence, reason = judge(rule, doc, raw, waivers)
        results.append(RuleResult(rule, status, findings, evidence, reason, tuple(controls(rule)) if controls else ()))
    deployment = doc.get("deployment", {})
    source = deployment.get("source") or {}
    return DeploymentReport(
        file=str(source.get("file", "")),
        sha256=str(source.get("sha256", "")),
        name=str(deployment.get("name", "")),
        results=tuple(results),
        waiver_notes=waiver_rules.notes(waivers, results),
    )
