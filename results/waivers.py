"""Waivers: read them from the input, attach them to findings, and keep the register honest.

A waiver accepts one rule's failure on one element until it expires. An unknown rule id is an
input error; an expired waiver no longer waives (the failure stands and says so); a stale waiver
(its rule now passes for that element) is reported.
"""
from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime, timezone
from typing import Any, Collection, Iterable, Mapping, Sequence

from amisec.compiler.diagnostics import Diagnostic, InputError, Span, allowed_words_hint

from .model import Finding, RuleResult, Waiver, WaiverNote


def default_today() -> date:
    """Today (UTC), or the day of SOURCE_DATE_EPOCH when set, so reports can be reproduced."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
    return datetime.now(tz=timezone.utc).date()


def _expired(expires: str | None, today: date) -> bool:
    return expires is not None and date.fromisoformat(expires) < today


def _span(raw: Mapping[str, Any]) -> Span:
    s = raw.get("span") or {}
    return Span(str(s.get("file", "")), int(s.get("line", 0)), int(s.get("column", 0)), int(s.get("end_line", 0)), int(s.get("end_column", 0)))


def read_waivers(doc: Mapping[str, Any], known_rules: Collection[str], today: date) -> tuple[Waiver, ...]:
    """The waivers of the input judged against `today`; an unknown rule id raises InputError."""
    waivers, problems = [], []
    for raw in doc.get("waivers") or []:
        span = _span(raw)
        if raw["rule"] not in known_rules:
            hint = allowed_words_hint(raw["rule"], sorted(known_rules), "known rules")
            problems.append(Diagnostic(span, f"waiver names unknown rule {raw['rule']}", hint))
            continue
        waivers.append(Waiver(
            rule=raw["rule"], on=raw["on"], reason=raw.get("reason") or "", approved_by=raw.get("approved_by") or "",
            expires=raw.get("expires"), expired=_expired(raw.get("expires"), today),
            file=span.file, line=span.line, column=span.column,
        ))
    if problems:
        raise InputError(problems, _sources(problems))
    return tuple(waivers)


def _sources(problems: Sequence[Diagnostic]) -> dict[str, str]:
    """The text of the files the problems are in, so the rendered error shows the source line."""
    sources = {}
    for path in {p.span.file for p in problems}:
        try:
            with open(path, encoding="utf-8") as fh:
                sources[path] = fh.read()
        except OSError:
            pass  # a snippet or a vanished file: the message still has file:line:col
    return sources


def attach(rule_id: str, findings: Iterable[Finding], waivers: Sequence[Waiver]) -> tuple[Finding, ...]:
    """The findings with the waiver naming (rule, element) attached; active waivers win."""
    mine = [w for w in waivers if w.rule == rule_id]
    out = []
    for finding in findings:
        matching = sorted((w for w in mine if w.on == finding.subject.id), key=lambda w: w.expired)
        out.append(replace(finding, waiver=matching[0]) if matching else finding)
    return tuple(out)


def notes(waivers: Sequence[Waiver], results: Sequence[RuleResult]) -> tuple[WaiverNote, ...]:
    """Stale waivers (nothing of theirs fails) and expired ones, for rules that were evaluated."""
    by_rule = {r.rule.id: r for r in results}
    out = []
    for waiver in waivers:
        result = by_rule.get(waiver.rule)
        if result is None:
            continue  # the rule was not selected in this run: nothing to say about its waivers
        failing = any(f.subject.id == waiver.on for f in result.findings)
        if not failing:
            state = f" (it also expired on {waiver.expires})" if waiver.expired else ""
            message = f"stale waiver at {waiver.location}: {waiver.rule} passes for {waiver.on}; remove the waiver{state}"
            out.append(WaiverNote(waiver, "stale", message))
        elif waiver.expired:
            message = f"waiver at {waiver.location} for {waiver.rule} on {waiver.on} expired on {waiver.expires}; the failure stands"
            out.append(WaiverNote(waiver, "expired", message))
    return tuple(out)
