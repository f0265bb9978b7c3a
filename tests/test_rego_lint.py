"""The policies stay valid for OPA v1 `opa check --strict`, as far as a text lint can tell.

tests/rego_lint.py says what the lint checks and what it cannot catch; with an `opa` binary,
tests/test_parity.py runs `opa check --strict` itself.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from rego_lint import lint, strip

POLICIES = sorted((Path(__file__).resolve().parent.parent / "policies").rglob("*.rego"))
HEADER = "package amisec.rules.x\n\nimport rego.v1\n\n"


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.name)
def test_shipped_policies_pass_the_lint(path):
    problems = lint(path.read_text(encoding="utf-8"))
    assert not problems, "\n".join(f"{path}:{p}" for p in problems)


def test_helper_calls_resolve():
    """OPA refuses a call to an undefined function at compile time; regopy yields undefined."""
    lib = strip((Path(__file__).resolve().parent.parent / "policies" / "lib.rego").read_text(encoding="utf-8"))
    lib_functions = set(re.findall(r"^([A-Za-z_]\w*)\(", lib, re.MULTILINE))
    for path in POLICIES:
        text = strip(path.read_text(encoding="utf-8"))
        local = set(re.findall(r"^([A-Za-z_]\w*)\(", text, re.MULTILINE))
        for name in re.findall(r"(?<![\w.])lib\.(\w+)\s*\(", text):
            assert name in lib_functions, f"{path}: lib.{name} is not a function of policies/lib.rego"
        for name in re.findall(r"(?<![\w.])(_\w+)\s*\(", text):
            assert name in local, f"{path}: {name}() is called but not defined in the module"


def test_every_module_declares_rego_v1():
    for path in POLICIES:
        assert "\nimport rego.v1\n" in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("body, line, words", [
    ("import data.amisec.lib\n\nr := 1\n", 5, "import data.amisec.lib is never used"),
    ("import data.amisec.lib\nimport data.amisec.lib\n\nr := lib.violation(1, 2, 3, 4, 5)\n", 6, "duplicates line 5"),
    ("# lib.x in a comment is no use\nimport data.amisec.lib\n\nr := \"lib.x\"\n", 6, "import data.amisec.lib is never used"),
    ("allow {\n\tinput.x == 1\n}\n", 5, "rule body without `if`"),
    ("deny[msg] {\n\tmsg := \"a\"\n}\n", 5, "rule body without `if`"),
    ("f(x) := 1 if {\n\tx > 1\n} else := 2 {\n\ttrue\n}\n", 7, "`else` body without `if`"),
    ("r := {\n\t\"subjects\": [i | some i; d := input.devices[i]],\n}\n", 6, "variable 'd' is never used"),
    ("r := [1 | some j; input.devices[0]]\n", 5, "variable 'j' is never used"),
    ("r := [1 | some j in input.devices]\n", 5, "variable 'j' is never used"),
    ("r := 1 if {\n\ty := input.a\n\tinput.b\n}\n", 6, "variable 'y' is never used"),
    ("r if {\n\tevery d in input.devices {\n\t\ttrue\n\t}\n}\n", 6, "variable 'd' is never used"),
    ("_f(d, e) if d.kind == \"meter\"\n", 5, "argument 'e' of _f is never used"),
    ("r := x if {\n\tinput := {\"a\": 1}\n\tx := input.a\n}\n", 6, "'input' is reserved"),
    ("f(data) := 1 if data.a\n", 5, "argument 'data' of f: the name is reserved"),
    ("r := [v | some k, v in input.deployment; k != \"x\"]\n", 5, "`some k, v in` inside a comprehension"),
    ("r if any([true])\n", 5, "deprecated built-in any"),
    ("r if re_match(\"a\", \"a\")\n", 5, "deprecated built-in re_match"),
])
def test_the_lint_catches(body, line, words):
    problems = lint(HEADER + body)
    assert any(p.line == line and words in p.message for p in problems), [str(p) for p in problems]


def test_valid_constructs_pass():
    source = HEADER + (
        "import data.amisec.lib\n\n"
        "# a comment with { braces and \"quotes\" and := assignments\n"
        "r := {\n"
        "\t\"subjects\": [i | some i; d := input.devices[i]; d.kind == \"meter\"],\n"
        "\t\"violations\": [lib.violation(\"devices\", i, sprintf(\"%s # not a comment {\", [d.id]), \"a\", \"b\") |\n"
        "\t\tsome i\n\t\td := input.devices[i]\n\t\tnot _ok(d)\n\t],\n"
        "}\n\n"
        "_ok(d) if d.kind == \"meter\"\n\n"
        "_all_linked if {\n\tsome k, v in input.deployment\n\tk != v\n\tevery d in input.devices {\n\t\td.link_count > 0\n\t}\n}\n\n"
        "default _limit := 5\n\n"
        "_pairs := [[a, b] | some a in input.x; some b in input.y]\n"
        "_raw := `a \" # not a comment`\n"
    )
    assert lint(source) == []


def test_strip_keeps_offsets_and_lines():
    source = 'x := "a # b" # c\ny := `z\n#`\n'
    stripped = strip(source)
    assert len(stripped) == len(source) and stripped.count("\n") == source.count("\n")
    assert "#" not in stripped and "z" not in stripped and stripped.startswith("x :=")
