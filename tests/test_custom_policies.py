"""Custom policies: the worked example of docs/writing-rules.md (tests/data/acme_rules) through
`--policy` and `amisec test`, and the policy sets `amisec` refuses before an engine sees them."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.engine.errors import PolicyError
from amisec.policies.catalog import load_catalog
from amisec.policies.conflicts import function_heads

ROOT = Path(__file__).resolve().parent.parent
ACME = Path(__file__).resolve().parent / "data" / "acme_rules"
RIVERSIDE = str(ROOT / "deployments" / "riverside.ami")
GUIDE = ROOT / "docs" / "writing-rules.md"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_guide_shows_the_example_files_as_they_are() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for name, fence in (("acme_network.rego", "rego"), ("acme_network_cases.yaml", "yaml")):
        match = re.search(rf"`my-rules/{re.escape(name)}`.*?\n```{fence}\n(.*?)```", guide, re.DOTALL)
        assert match, f"the guide shows no {name}"
        assert match.group(1) == (ACME / name).read_text(encoding="utf-8")


def test_the_example_rule_passes_the_rego_lint() -> None:
    from rego_lint import lint

    assert not lint((ACME / "acme_network.rego").read_text(encoding="utf-8"))


def test_amisec_test_lists_each_custom_case_and_passes() -> None:
    code, out, _ = run("test", str(ACME), "--rule", "acme_network")
    assert code == 0
    assert out.splitlines() == [
        "ok    ACME-NET-001: collectors with a hot standby pass",
        "ok    ACME-NET-001: collectors without a standby fail",
        "ok    ACME-NET-001: a plan without remote reads is not concerned",
        "3 cases, 0 failed; 0 rule(s) never fail, 0 never pass",
    ]


def test_amisec_test_names_a_rule_no_case_makes_fail(tmp_path: Path) -> None:
    rules = shutil.copytree(ACME, tmp_path / "rules")
    cases = rules / "acme_network_cases.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(text[:text.index("  - name: collectors without a standby fail")] +
                     text[text.index("  - name: a plan without remote reads"):], encoding="utf-8")
    code, out, _ = run("test", str(rules), "--rule", "ACME-NET-001")
    assert code == 1 and "no case makes these rules fail: ACME-NET-001" in out


def test_amisec_test_reports_a_case_that_expects_the_wrong_thing(tmp_path: Path) -> None:
    rules = shutil.copytree(ACME, tmp_path / "rules")
    cases = rules / "acme_network_cases.yaml"
    cases.write_text(cases.read_text(encoding="utf-8").replace("subjects: [collectors]", "subjects: [meters]"), encoding="utf-8")
    code, out, _ = run("test", str(rules), "--rule", "acme_network")
    assert code == 1
    assert "FAIL  ACME-NET-001: collectors without a standby fail" in out
    assert "expected offending elements [meters], got [collectors]" in out


def test_check_with_the_custom_policy_fails_riverside_on_it() -> None:
    code, out, _ = run("check", "--policy", str(ACME), RIVERSIDE, "-f", "lines")
    assert code == 1
    assert out.splitlines() == [
        f"{RIVERSIDE}:48:1: warning ACME-NET-001 collectors (40 aggregator) has redundancy 1; ACME requires a hot standby",
    ]
    assert run("check", RIVERSIDE)[0] == 0  # the built-in rules alone pass it


def test_custom_rule_in_rules_explain_and_diff() -> None:
    assert "ACME-NET-001" in run("rules", "--policy", str(ACME))[1]
    assert "hot standby" in run("explain", "ACME-NET-001", "--policy", str(ACME))[1]
    code, out, _ = run("diff", RIVERSIDE, RIVERSIDE, "--policy", str(ACME))
    assert code == 0 and "AMI-" not in out.split("\n\n")[-1]


# --- policy sets refused before evaluation ------------------------------------------------------

RULE = '''package amisec.rules.{package}

import rego.v1

import data.amisec.lib

# METADATA
# title: Meters are fine
# description: Meters are fine.
# custom:
#   id: {rule_id}
#   principle: integrity
#   severity: low
#   section: "3.1.4"
#   objective: To protect meter data from manipulation or deletion.
#   use_cases: []
#   subject: devices
#   evidence: "{{n}} fine: {{ids}}"
#   remediation: Make it fine.
fine := {{
	"subjects": [i | some i; input.devices[i]],
	"violations": [lib.violation("devices", i, "not fine", "fine", d.kind) |
		some i
		d := input.devices[i]
		not {helper}
	],
}}

{definition}
'''


def write_rule(directory: Path, package: str = "acme", rule_id: str = "ACME-FIN-001",
               helper: str = "_fine(d)", definition: str = "_fine(d) if d.kind == \"meter\"") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    text = RULE.format(package=package, rule_id=rule_id, helper=helper, definition=definition)
    (directory / f"{package}.rego").write_text(text, encoding="utf-8")
    return directory


def test_a_well_formed_custom_rule_loads(tmp_path: Path) -> None:
    assert load_catalog([write_rule(tmp_path)]).get("ACME-FIN-001") is not None


def test_a_helper_with_another_arity_than_a_builtin_one_is_refused(tmp_path: Path) -> None:
    builtin = next(h for m in load_catalog().files for h in function_heads(m.source, m.path) if h.name == "_logs")
    directory = write_rule(tmp_path, helper="_logs(d, 1)", definition="_logs(d, n) if d.redundancy > n")
    with pytest.raises(PolicyError) as err:
        load_catalog([directory])
    message = str(err.value)
    assert f"function _logs takes 2 argument(s) here but 1 at {builtin.path}:{builtin.line}" in message
    assert err.value.where == f"{directory / 'acme.rego'}:29"
    code, _, cli_err = run("check", RIVERSIDE, "--policy", str(directory))
    assert code == 3 and "function _logs takes 2 argument(s)" in cli_err


def test_two_custom_directories_with_clashing_helpers_are_refused(tmp_path: Path) -> None:
    first = write_rule(tmp_path / "a")
    second = write_rule(tmp_path / "b", package="other", rule_id="ACME-FIN-002",
                        helper="_fine(d, 1)", definition="_fine(d, n) if d.count > n")
    with pytest.raises(PolicyError, match=r"_fine takes 2 argument\(s\) here but 1 at .*a/acme\.rego:29"):
        load_catalog([first, second])


def test_the_same_helper_name_with_the_same_arity_is_fine(tmp_path: Path) -> None:
    first = write_rule(tmp_path / "a")
    second = write_rule(tmp_path / "b", package="other", rule_id="ACME-FIN-002")
    assert len([r for r in load_catalog([first, second]).rules if not r.builtin]) == 2


def test_a_custom_module_in_a_builtin_package_is_refused(tmp_path: Path) -> None:
    directory = write_rule(tmp_path, package="availability")
    code, _, err = run("rules", "--policy", str(directory))
    assert code == 3
    assert "package amisec.rules.availability belongs to the built-in policies (policies/rules/availability.rego)" in err


def test_a_custom_rule_with_a_builtin_id_names_both_files(tmp_path: Path) -> None:
    directory = write_rule(tmp_path, rule_id="AMI-OWN-001")
    code, _, err = run("check", RIVERSIDE, "--policy", str(directory))
    assert code == 3
    assert re.search(r"acme\.rego:\d+: rule id AMI-OWN-001 is already defined at policies/rules/ownership\.rego:\d+", err)


def test_function_heads_count_arguments_and_skip_comments_strings_and_bodies() -> None:
    source = '''package x

# f(a, b) in a comment
_f(a, [b, c], {"k": d}) if a == "g(1, 2)"

default _g(_) := false

r := [x |
h(x)
]

_h(x) := y if {
	y := x
}
'''
    heads = [(h.name, h.arity, h.line) for h in function_heads(source, "x.rego")]
    assert heads == [("_f", 3, 4), ("_g", 1, 6), ("_h", 1, 12)]
