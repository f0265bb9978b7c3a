"""The policy catalog: METADATA blocks, validation errors at file:line, cases files, digest."""
from __future__ import annotations

from pathlib import Path

import pytest

from amisec.engine.errors import PolicyError
from amisec.policies.catalog import BUILTIN_ID, load_catalog, policy_digest

METADATA = """# METADATA
# title: Devices are fine
# description: >-
#   Every device is fine.
# custom:
#   id: {id}
#   principle: integrity
#   severity: {severity}
#   section: "3.1.4"
#   objective: Devices are fine.
#   use_cases: [{use_cases}]
#   subject: devices
#   evidence: "{{n}} fine: {{ids}}"
#   remediation: Make it fine.
"""


def policy(rule_id: str = "ACME-FIN-001", severity: str = "high", use_cases: str = "", name: str = "fine") -> str:
    head = "package amisec.rules.acme\n\nimport rego.v1\n\n"
    body = f'{name} := {{"subjects": [], "violations": []}}\n'
    return head + METADATA.format(id=rule_id, severity=severity, use_cases=use_cases) + body


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_builtin_catalog_loads_with_unique_well_formed_ids() -> None:
    catalog = load_catalog()
    ids = [r.id for r in catalog.rules]
    assert ids and len(ids) == len(set(ids))
    assert all(BUILTIN_ID.match(i) and r.builtin for i, r in zip(ids, catalog.rules))
    assert catalog.files[0].path == "policies/lib.rego"


def test_custom_rule_is_read_with_its_position(tmp_path: Path) -> None:
    write(tmp_path, "acme.rego", policy(use_cases="billing.remote_read"))
    rule = load_catalog([tmp_path]).get("acme-fin-001")
    assert rule is not None and not rule.builtin
    assert (rule.name, rule.family, rule.package, rule.line) == ("fine", "acme", "amisec.rules.acme", 19)
    assert rule.use_cases == ("billing.remote_read",) and rule.evidence == "{n} fine: {ids}"
    assert rule.description == "Every device is fine."


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        (policy(severity="urgent"), ":5", "severity"),
        (policy(use_cases="billing.nope"), ":5", "use_cases"),
        (policy(rule_id="acme"), ":5", "rule id"),
        (policy(rule_id="AMI-ACME-001"), ":19", "AMI- is reserved"),
        (policy().replace("#   remediation: Make it fine.\n", ""), ":5", "remediation"),
        (policy().replace("#   subject: devices\n", "#   subject: devices\n#   colour: red\n"), ":5", "custom.colour"),
        (policy().replace("# title: Devices are fine\n", "# title: [unclosed\n"), ":7", "YAML"),
        (policy().replace('fine := {"subjects"', '\n# trailing\n\nfine := {"subjects"'), ":5", "METADATA"),
        (policy().replace("package amisec.rules.acme", "package acme"), ":5", "not under amisec.rules"),
    ],
)
def test_broken_metadata_is_a_policy_error_at_file_line(tmp_path: Path, text: str, where: str, message: str) -> None:
    write(tmp_path, "acme.rego", text)
    with pytest.raises(PolicyError, match=message) as err:
        load_catalog([tmp_path])
    assert err.value.where == f"{tmp_path / 'acme.rego'}{where}"


def test_duplicate_rule_ids_name_both_places(tmp_path: Path) -> None:
    write(tmp_path, "a.rego", policy())
    write(tmp_path, "b.rego", policy(name="other").replace("package amisec.rules.acme", "package amisec.rules.other"))
    with pytest.raises(PolicyError, match=r"ACME-FIN-001 is already defined at .*a\.rego:19"):
        load_catalog([tmp_path])


def test_custom_rule_with_a_builtin_id_names_both_places(tmp_path: Path) -> None:
    write(tmp_path, "acme.rego", policy(rule_id="AMI-OWN-001"))
    with pytest.raises(PolicyError, match=r"AMI-OWN-001 is already defined at policies/rules/ownership\.rego:\d+") as err:
        load_catalog([tmp_path])
    assert err.value.where == f"{tmp_path / 'acme.rego'}:19"


def test_missing_policy_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_catalog([tmp_path / "nope"])


CASES = """ACME-FIN-001:
  - name: fine passes
    expect: pass
    ami: |
      deployment "x" { utility u }
  - name: broken fails
    expect: fail
    subjects: [meters]
    ami: |
      deployment "x" { utility u }
"""


def test_cases_are_read_with_their_lines(tmp_path: Path) -> None:
    write(tmp_path, "acme.rego", policy())
    write(tmp_path, "acme_cases.yaml", CASES)
    cases = [c for c in load_catalog([tmp_path]).cases if c.rule_id == "ACME-FIN-001"]
    assert [(c.name, c.expect, c.subjects, c.line) for c in cases] == [
        ("fine passes", "pass", (), 2),
        ("broken fails", "fail", ("meters",), 6),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CASES.replace("ACME-FIN-001:", "ACME-FIN-009:"), "unknown rule id ACME-FIN-009"),
        (CASES.replace("expect: pass", "expect: passes"), "expect is 'passes'"),
        (CASES.replace("    subjects: [meters]\n", ""), "subjects"),
        (CASES.replace("broken fails", "fine passes"), "defined twice"),
        (CASES.replace("    expect: pass\n", "    expect: pass\n    extra: 1\n"), "unknown case field"),
    ],
)
def test_broken_cases_are_policy_errors(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "acme.rego", policy())
    write(tmp_path, "acme_cases.yaml", text)
    with pytest.raises(PolicyError, match=message):
        load_catalog([tmp_path]).cases


def test_digest_covers_every_policy_file(tmp_path: Path) -> None:
    builtin = load_catalog()
    assert builtin.digest == policy_digest() and len(builtin.digest) == 64
    write(tmp_path, "acme.rego", policy())
    first = load_catalog([tmp_path]).digest
    write(tmp_path, "acme.rego", policy() + "\n")
    assert len({builtin.digest, first, load_catalog([tmp_path]).digest}) == 3
