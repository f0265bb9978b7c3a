"""OSCAL assessment results (JSON, OSCAL 1.2.1) for regulators and GRC tools.

Per deployment one `result`:
- `reviewed-controls`: the controls of the deployment's selected standards that its rules map to;
- an `observation` per rule × offending element (and one per rule that passed or did not apply,
  carrying its evidence or reason), with the element as an inventory-item subject;
- a `finding` per control: `satisfied` when every rule mapped to it passes or does not apply,
  `not-satisfied` when one fails, or when a failure is only accepted by a waiver;
- a `risk` per waived failure, status `deviation-approved`, with the waiver's reason, approver and
  expiry.

Control ids become OSCAL tokens: NIST SP 800-53 ids take the form of NIST's own OSCAL catalog
(`AC-17(1)` → `ac-17.1`); other standards are prefixed with their key (`iec_62443_fr_1`). Every
UUID is derived (uuid5) from the report's content, so identical inputs give identical files.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any, TextIO

from amisec.results.model import ControlRef, DeploymentReport, Finding, Report, RuleResult

from .common import control_label, expected_actual

OSCAL_VERSION = "1.2.1"
NS = "https://amisec.example/ns/oscal"
_UUID_NAMESPACE = uuid.UUID("6f1f3c2e-5a0b-5d8e-9c41-1b7e2a9d4c10")


def control_token(control: ControlRef) -> str:
    """The control's id as an OSCAL token (`control-id`)."""
    if control.standard == "nist_800_53":
        return re.sub(r"\((\d+)\)", r".\1", control.id).lower()
    return f"{control.standard}_{re.sub(r'[^A-Za-z0-9.-]+', '_', control.id).strip('_').lower()}"


def _uuid(*parts: str) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, "\0".join(parts)))


def _prop(name: str, value: str) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": value}


def _date_time(day: str) -> str:
    """The end of a calendar day (UTC): a waiver is valid through its expiry date."""
    return f"{day}T23:59:59Z"


class _Result:
    """Builds one OSCAL result (one deployment); remembers uuids so findings can point to them."""

    def __init__(self, report: Report, deployment: DeploymentReport) -> None:
        self.report, self.deployment = report, deployment
        self.key = _uuid("result", report.policy_digest, report.standards_digest, report.timestamp, deployment.file, deployment.sha256)
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.observations: list[dict[str, Any]] = []
        self.risks: list[dict[str, Any]] = []
        self.by_rule: dict[str, list[str]] = {}  # rule id -> observation uuids
        self.risks_by_rule: dict[str, list[str]] = {}

    def _subject(self, finding: Finding) -> dict[str, Any]:
        s = finding.subject
        key = (s.collection, s.id)
        if key not in self.items:
            self.items[key] = {
                "uuid": _uuid(self.key, "element", s.collection, s.id),
                "description": f"{s.kind} {s.id} of deployment {self.deployment.name}, declared at {s.location}",
                "props": [{"name": "asset-id", "value": s.id}, _prop("element-kind", s.kind), _prop("location", s.location)],
            }
        return {"subject-uuid": self.items[key]["uuid"], "type": "inventory-item", "title": f"{s.kind} {s.id}"}

    def _observe(self, result: RuleResult, title: str, description: str, extra: dict[str, Any], tag: str) -> str:
        ident = _uuid(self.key, "observation", result.rule.id, tag)
        observation = {
            "uuid": ident,
            "title": title,
            "description": description,
            "props": [_prop("rule-id", result.rule.id), _prop("result", result.status), _prop("severity", result.rule.severity)],
            "methods": ["TEST"],
            "types": ["finding"] if result.status in ("fail", "waived") else ["control-objective"],
            **extra,
            "collected": self.report.timestamp,
        }
        self.observations.append(observation)
        self.by_rule.setdefault(result.rule.id, []).append(ident)
        return ident

    def _finding_observation(self, result: RuleResult, finding: Finding, number: int) -> None:
        s = finding.subject
        state = "waived" if finding.waived else "fails"
        expired = ""
        if finding.waiver is not None and finding.waiver.expired:
            expired = f" The waiver at {finding.waiver.location} expired on {finding.waiver.expires}; the failure stands."
        evidence = [{"href": s.file, "description": f"{s.kind} {s.id} at {s.location}"}]
        ident = self._observe(
            result, f"{result.rule.id} {state} for {s.kind} {s.id}",
            f"{finding.message} ({expected_actual(finding)}).{expired}",
            {"subjects": [self._subject(finding)], "relevant-evidence": evidence}, f"{s.collection}/{s.id}/{number}",
        )
        if finding.waived:
            self._risk(result, finding, ident)

    def _risk(self, result: RuleResult, finding: Finding, observation: str) -> None:
        waiver = finding.waiver
        if waiver is None:
            return
        ident = _uuid(observation, "risk")
        risk: dict[str, Any] = {
            "uuid": ident,
            "title": f"Accepted deviation: {result.rule.id} on {finding.subject.kind} {finding.subject.id}",
            "description": f"{result.rule.title}. {finding.message}",
            "statement": waiver.reason or "(no reason given)",
            "props": [_prop("approved-by", waiver.approved_by), _prop("waiver-location", waiver.location)],
            "status": "deviation-approved",
        }
        if waiver.expires:
            risk["deadline"] = _date_time(waiver.expires)
        risk["risk-log"] = {"entries": [{
            "uuid": _uuid(ident, "approval"),
            "title": "Deviation approved",
            "description": waiver.describe(),
            "start": self.report.timestamp,
            "status-change": "deviation-approved",
        }]}
        risk["related-observations"] = [{"observation-uuid": observation}]
        self.risks.append(risk)
        self.risks_by_rule.setdefault(result.rule.id, []).append(ident)

    def observe(self, result: RuleResult) -> None:
        """The observations (and risks) of one rule's result."""
        if result.findings:
            for number, finding in enumerate(result.findings):
                self._finding_observation(result, finding, number)
            return
        text = result.evidence if result.status == "pass" else result.reason
        word = "passes" if result.status == "pass" else "does not apply"
        self._observe(result, f"{result.rule.id} {word}", text or result.rule.title, {}, "rule")

    def findings(self) -> list[dict[str, Any]]:
        """One finding per reviewed control, judged from every rule mapped to it."""
        rules_of: dict[ControlRef, list[RuleResult]] = {}
        for result in self.deployment.results:
            for control in result.controls:
                rules_of.setdefault(control, []).append(result)
        return [self._control_finding(c, results) for c, results in rules_of.items()]

    def _control_finding(self, control: ControlRef, results: list[RuleResult]) -> dict[str, Any]:
        statuses = {r.status for r in results}
        if "fail" in statuses:
            state, reason, remark = "not-satisfied", "fail", "at least one rule mapped to this control fails"
        elif "waived" in statuses:
            state, reason, remark = "not-satisfied", "other", "failures are accepted by approved deviations (see the related risks)"
        elif "pass" in statuses:
            state, reason, remark = "satisfied", "pass", "every rule mapped to this control passes or does not apply"
        else:
            state, reason, remark = "satisfied", "other", "no element of the deployment is in the scope of the rules mapped to this control"
        listed = ", ".join(f"{r.rule.id} ({r.status.replace('_', ' ')})" for r in results)
        finding: dict[str, Any] = {
            "uuid": _uuid(self.key, "finding", control.standard, control.id),
            "title": f"{control_label(control)} — {control.title}",
            "description": f"Assessed by rules {listed}.",
            "props": [_prop("standard", control.standard), _prop("control", control.id),
                      _prop("verified", "true" if control.verified else "false")],
            "target": {
                "type": "objective-id",
                "target-id": control_token(control),
                "title": control_label(control),
                "status": {"state": state, "reason": reason, "remarks": remark},
            },
            "related-observations": [{"observation-uuid": o} for r in results for o in self.by_rule.get(r.rule.id, [])],
        }
        risks = [{"risk-uuid": k} for r in results for k in self.risks_by_rule.get(r.rule.id, [])]
        if risks:
            finding["related-risks"] = risks
        return finding

    def reviewed_controls(self) -> dict[str, Any]:
        """The controls of the selected standards that the deployment's rules map to."""
        controls = list(dict.fromkeys(c for r in self.deployment.results for c in r.controls))
        if not controls:
            return {"description": "The deployment selects no standard, so no standard control was assessed; "
                                   "the observations still hold every rule's result.",
                    "control-selections": [{"include-all": {}}],
                    "remarks": "include-all stands for the (empty) set of controls of the selected standards."}
        return {
            "description": "Controls of the standards the deployment selects that the amisec rules map to.",
            "control-selections": [{"include-controls": [{"control-id": control_token(c)} for c in controls]}],
        }

    def build(self) -> dict[str, Any]:
        """The OSCAL result."""
        for result in self.deployment.results:
            self.observe(result)
        findings = self.findings()
        counts = self.deployment.counts()
        out: dict[str, Any] = {
            "uuid": self.key,
            "title": f"amisec check of {self.deployment.name or self.deployment.file}",
            "description": (f"Every amisec rule evaluated against {self.deployment.file}: "
                            + ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in counts.items()) + "."),
            "start": self.report.timestamp,
            "end": self.report.timestamp,
            "props": [_prop("deployment-file", self.deployment.file), _prop("deployment-sha256", self.deployment.sha256)],
        }
        if self.items:
            out["local-definitions"] = {"inventory-items": list(self.items.values())}
        out["reviewed-controls"] = self.reviewed_controls()
        if self.observations:
            out["observations"] = self.observations
        if self.risks:
            out["risks"] = self.risks
        if findings:
            out["findings"] = findings
        return out


def to_dict(report: Report) -> dict[str, Any]:
    """The OSCAL assessment-results document as JSON-ready data."""
    names = ", ".join(d.name or d.file for d in report.deployments)
    document_id = _uuid("assessment-results", report.policy_digest, report.standards_digest, report.timestamp,
                        *(d.sha256 for d in report.deployments))
    return {"assessment-results": {
        "uuid": document_id,
        "metadata": {
            "title": f"amisec assessment results: {names}",
            "last-modified": report.timestamp,
            "version": report.tool_version,
            "oscal-version": OSCAL_VERSION,
            "props": [
                _prop("tool", f"amisec {report.tool_version}"),
                _prop("engine", f"{report.engine} {report.engine_version}"),
                _prop("policy-digest", report.policy_digest),
                _prop("standards-digest", report.standards_digest or "unknown"),
            ],
        },
        "import-ap": {
            "href": f"urn:amisec:policy-set:sha256:{report.policy_digest}",
            "remarks": "amisec has no separate assessment plan: the plan is the amisec policy set with this digest, "
                       "applied to the deployment files named in each result.",
        },
        "results": [_Result(report, d).build() for d in report.deployments],
    }}


def render(report: Report, out: TextIO, **options: Any) -> None:
    """Write the OSCAL assessment results (indented JSON, trailing newline)."""
    json.dump(to_dict(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
