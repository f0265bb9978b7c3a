"""Describe rules to people: the `rules` listing and the `explain` text, from METADATA and cases."""
from __future__ import annotations

import textwrap
from typing import Sequence

from tabulate import tabulate

from .cases import RuleCase
from .catalog import RuleMeta

_WIDTH = 88


def rules_table(rules: Sequence[RuleMeta]) -> str:
    """One row per rule: id, severity, principle, family, title; sorted by id."""
    rows = [[r.id, r.severity, r.principle, r.family, r.title] for r in sorted(rules, key=lambda r: r.id)]
    return tabulate(rows, headers=["rule", "severity", "principle", "family", "title"], tablefmt="simple")


def _paragraph(heading: str, text: str) -> list[str]:
    body = textwrap.fill(text, _WIDTH, initial_indent="  ", subsequent_indent="  ")
    return ["", heading, body]


def _example(heading: str, case: RuleCase | None) -> list[str]:
    if case is None:
        return ["", f"{heading}: none in the rule's cases"]
    extra = f" (offending: {', '.join(case.subjects)})" if case.subjects else ""
    return ["", f"{heading} — {case.name}{extra}:", textwrap.indent(case.ami.rstrip("\n"), "    ")]


def _controls(rule: RuleMeta) -> list[str]:
    from amisec.standards.mapping import rule_controls

    found = rule_controls(rule.id)
    if not found:
        return []
    lines = ["", "Standards controls:"]
    lines += [f"  {key}: {', '.join(c.label() for c in controls)}" for key, controls in found.items()]
    return lines


def explain(rule: RuleMeta, cases: Sequence[RuleCase]) -> str:
    """What a rule checks, where it comes from, why it matters, how to fix it, with examples."""
    mine = [c for c in cases if c.rule_id == rule.id]
    failing = next((c for c in mine if c.expect == "fail"), None)
    passing = next((c for c in mine if c.expect == "pass"), None)
    applies = ", ".join(rule.use_cases) if rule.use_cases else "every deployment"
    lines = [
        f"{rule.id}  {rule.title}",
        f"severity {rule.severity} · principle {rule.principle} · family {rule.family} · {rule.path}:{rule.line}",
        f"applies to: {applies}",
    ]
    lines += _paragraph(f"Objective (AMI security architecture, section {rule.section}):", f"“{rule.objective}”")
    lines += _paragraph("Why it matters:", rule.description)
    lines += _paragraph("How to fix:", rule.remediation)
    lines += _controls(rule)
    lines += _example("Failing example", failing)
    lines += _example("Passing example", passing)
    return "\n".join(lines) + "\n"
