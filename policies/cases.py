"""Rule test cases: deployment-language snippets with the result each rule must give.

A cases file maps rule ids to lists of cases:

    AMI-OWN-001:
      - name: a telecom-owned meter fails
        expect: fail
        subjects: [meters]      # ids of the offending elements (fail / waived)
        ami: |
          ...
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Collection

import yaml

from amisec.engine.errors import PolicyError

EXPECTATIONS = ("pass", "fail", "waived", "not_applicable")
_FIELDS = {"name", "expect", "subjects", "ami"}
_LINE = "__line__"


@dataclass(frozen=True)
class RuleCase:
    """One snippet and the result its rule must give on it."""

    rule_id: str
    name: str
    expect: str
    subjects: tuple[str, ...]
    ami: str
    path: str
    line: int

    @property
    def label(self) -> str:
        """`RULE-ID: name`, how the case is named in every output."""
        return f"{self.rule_id}: {self.name}"


class _LineLoader(yaml.SafeLoader):
    """A safe loader that records each mapping's line under `__line__`."""


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[_LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def _case(rule_id: str, raw: Any, path: str) -> RuleCase:
    line = raw.get(_LINE, 0) if isinstance(raw, dict) else 0
    where = f"{path}:{line}"
    if not isinstance(raw, dict):
        raise PolicyError(where, f"each case of {rule_id} must be a mapping with name, expect, ami")
    unknown = sorted(set(raw) - _FIELDS - {_LINE})
    if unknown:
        raise PolicyError(where, f"unknown case field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    name, expect, ami = raw.get("name"), raw.get("expect"), raw.get("ami")
    subjects = raw.get("subjects", [])
    if not isinstance(name, str) or not isinstance(ami, str) or not name.strip() or not ami.strip():
        raise PolicyError(where, f"a case of {rule_id} needs a 'name' and an 'ami' snippet")
    if expect not in EXPECTATIONS:
        raise PolicyError(where, f"case '{name}': expect is {expect!r}; allowed: {', '.join(EXPECTATIONS)}")
    if not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects):
        raise PolicyError(where, f"case '{name}': subjects must be a list of element ids")
    if expect in ("fail", "waived") and not subjects:
        raise PolicyError(where, f"case '{name}': a {expect} case lists the ids of its offending elements in 'subjects'")
    return RuleCase(rule_id, name, expect, tuple(subjects), ami, path, line)


def parse_cases(text: str, path: str, known_rules: Collection[str]) -> list[RuleCase]:
    """The cases of one file; every rule id must be in `known_rules` (raises PolicyError)."""
    try:
        doc = yaml.load(text, Loader=_LineLoader) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise PolicyError(f"{path}:{mark.line + 1 if mark else 1}", f"not valid YAML: {getattr(err, 'problem', err)}") from None
    if not isinstance(doc, dict):
        raise PolicyError(path, "a cases file maps rule ids to lists of cases")
    cases: list[RuleCase] = []
    for rule_id, raw_cases in doc.items():
        if rule_id == _LINE:
            continue
        if rule_id not in known_rules:
            raise PolicyError(path, f"cases for unknown rule id {rule_id}")
        if not isinstance(raw_cases, list):
            raise PolicyError(path, f"the cases of {rule_id} must be a list")
        cases += [_case(str(rule_id), raw, path) for raw in raw_cases]
    names = [c.label for c in cases]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise PolicyError(path, f"case '{duplicate}' is defined twice")
    return cases
