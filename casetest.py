"""Run the rules' test cases: compile each snippet, evaluate it, compare with what it expects.

A rule that no case makes fail is reported: the embedded engine turns a typo into silence, so a
rule that cannot be shown to fail may never fire.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Collection, TextIO

from amisec.compiler import InputError, compile_text
from amisec.engine import Engine, get_engine
from amisec.policies.cases import RuleCase
from amisec.policies.catalog import Catalog
from amisec.results.evaluate import evaluate_deployment


@dataclass(frozen=True)
class CaseOutcome:
    """What one case gave: the rule's status and offending element ids, and any mismatch."""

    case: RuleCase
    status: str | None  # None when the snippet does not compile
    subjects: tuple[str, ...]
    problem: str = ""  # empty when the case passed

    @property
    def ok(self) -> bool:
        """The rule gave what the case expects."""
        return not self.problem


@dataclass(frozen=True)
class CaseRun:
    """Every case's outcome, and the rules the cases never showed failing or passing."""

    outcomes: tuple[CaseOutcome, ...]
    never_fail: tuple[str, ...]
    never_pass: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Every case passed and every rule was seen both failing and passing."""
        return all(o.ok for o in self.outcomes) and not self.never_fail and not self.never_pass


def _mismatch(case: RuleCase, status: str, subjects: tuple[str, ...]) -> str:
    if status != case.expect:
        return f"expected {case.expect}, got {status}" + (f" on {', '.join(subjects)}" if subjects else "")
    if (case.subjects or status in ("fail", "waived")) and sorted(case.subjects) != list(subjects):
        return f"expected offending elements [{', '.join(sorted(case.subjects))}], got [{', '.join(subjects)}]"
    return ""


def run_case(case: RuleCase, catalog: Catalog, engine: Engine, today: date | None = None) -> CaseOutcome:
    """Compile and evaluate one case; an engine failure raises EngineError."""
    filename = f"<{case.label}>"
    try:
        doc = compile_text(case.ami, filename)
    except InputError as err:
        return CaseOutcome(case, None, (), f"the snippet does not compile:\n{err}")
    report = evaluate_deployment(catalog.rules, doc, engine.evaluate(doc), select={case.rule_id}, today=today)
    result = report.results[0]
    subjects = tuple(sorted({f.subject.id for f in result.findings}))
    return CaseOutcome(case, result.status, subjects, _mismatch(case, result.status, subjects))


def run_cases(catalog: Catalog, engine: Engine | None = None, today: date | None = None,
              rules: Collection[str] | None = None) -> CaseRun:
    """Run the cases of the catalog's rules (only those in `rules` when given) on one engine."""
    engine = engine or get_engine("embedded", modules=catalog.files)
    ids = [r.id for r in catalog.rules if rules is None or r.id in rules]
    outcomes = tuple(run_case(c, catalog, engine, today) for c in catalog.cases if c.rule_id in ids)
    failing = {o.case.rule_id for o in outcomes if o.ok and o.status == "fail"}
    passing = {o.case.rule_id for o in outcomes if o.ok and o.status == "pass"}
    return CaseRun(outcomes, tuple(i for i in ids if i not in failing), tuple(i for i in ids if i not in passing))


def render_run(run: CaseRun, out: TextIO, verbose: bool = False, show: Collection[str] = ()) -> None:
    """A line per failing case (where and why) and per passing case of the rules in `show` (all
    when `verbose`), the rules no case shows failing or passing, and a count."""
    for outcome in run.outcomes:
        case = outcome.case
        if outcome.ok:
            if verbose or case.rule_id in show:
                out.write(f"ok    {case.label}\n")
            continue
        out.write(f"FAIL  {case.label} ({case.path}:{case.line}): {outcome.problem}\n")
    for label, ids in (("no case makes these rules fail", run.never_fail), ("no case shows these rules passing", run.never_pass)):
        if ids:
            out.write(f"{label}: {', '.join(ids)}\n")
    failed = sum(not o.ok for o in run.outcomes)
    out.write(f"{len(run.outcomes)} cases, {failed} failed; {len(run.never_fail)} rule(s) never fail, "
              f"{len(run.never_pass)} never pass\n")

