"""Every case of every built-in rule: compile the snippet, evaluate, compare status and elements.

A rule that no case makes fail may never fire (the embedded engine turns a typo into silence),
so every rule must have at least one failing and one passing case.
"""
from __future__ import annotations

import pytest

from amisec.casetest import run_case
from amisec.engine import get_engine
from amisec.policies.catalog import load_catalog

CATALOG = load_catalog()
CASES = CATALOG.cases


@pytest.fixture(scope="module")
def engine():
    return get_engine("embedded", modules=CATALOG.files)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_case(case, engine) -> None:
    outcome = run_case(case, CATALOG, engine)
    assert outcome.ok, f"{case.path}:{case.line}: {outcome.problem}"


@pytest.mark.parametrize("rule", CATALOG.rules, ids=[r.id for r in CATALOG.rules])
def test_rule_has_a_failing_and_a_passing_case(rule) -> None:
    expected = {c.expect for c in CASES if c.rule_id == rule.id}
    assert {"pass", "fail"} <= expected, f"{rule.id} ({rule.path}:{rule.line}) has cases for {sorted(expected) or 'nothing'}"


@pytest.mark.parametrize("case", [c for c in CASES if c.expect == "fail"], ids=lambda c: c.label)
def test_failure_messages_carry_no_engine_quotes(case, engine) -> None:
    # rego-cpp keeps the JSON quotes of a string a builtin returned when sprintf inserts it
    # (`sprintf("%s", [concat(", ", ids)])` gives `"a, b"` with quotes, OPA gives `a, b`);
    # build such messages with concat instead, so every engine says the same.
    from amisec.compiler import compile_text
    from amisec.results.evaluate import evaluate_deployment

    doc = compile_text(case.ami, f"<{case.label}>")
    result = evaluate_deployment(CATALOG.rules, doc, engine.evaluate(doc), select={case.rule_id}).results[0]
    quoted = [f.message for f in result.findings if '"' in f.message]
    assert not quoted, f"{case.path}:{case.line}: {quoted}"
