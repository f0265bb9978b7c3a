"""The security objectives of the AMI Security Architecture and the rules that check them.

`objectives.yaml` (package data beside this module) quotes each objective sentence of the document
with its section and the use case it sits under, and names either the rules that implement it or
why a deployment description cannot show it. `amisec trace` joins it to the results of a check.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml
from amisec import safe_yaml
from amisec.engine.errors import PolicyError

OBJECTIVES_FILE = "objectives.yaml"
KINDS = ("objective", "constraint", "need", "ownership", "assumption", "summary", "use_case", "view", "definition")
_ID = re.compile(r"^OBJ-(\d+(?:\.\d+)*)-\d{2}$")
_RULE_ID = re.compile(r"^AMI-[A-Z]+-\d{3}$")
_FIELDS = {"id", "section", "kind", "context", "text", "rules", "not_checkable", "note"}


@dataclass(frozen=True)
class Objective:
    """One objective sentence of the document and how amisec checks it."""

    id: str
    section: str
    kind: str
    context: str
    text: str
    rules: tuple[str, ...] = ()
    not_checkable: str = ""  # why a deployment cannot show it (then `rules` is empty)
    note: str = ""  # what the rules leave unchecked, when they check only part of it

    @property
    def checkable(self) -> bool:
        """True when rules implement it; False for an explained gap."""
        return bool(self.rules)


def section_key(section: str) -> tuple[int, ...]:
    """`3.1.2` → (3, 1, 2), so sections sort in document order."""
    return tuple(int(part) for part in section.split("."))


def _text(raw: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(where, f"objective field '{key}' must be a non-empty text")
    return " ".join(value.split())


def _rules(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    value = raw.get("rules", [])
    if not isinstance(value, list) or not all(isinstance(r, str) and _RULE_ID.match(r) for r in value):
        raise PolicyError(where, "objective field 'rules' must be a list of rule ids (AMI-<FAMILY>-<NNN>)")
    if len(set(value)) != len(value):
        raise PolicyError(where, "objective field 'rules' names a rule twice")
    return tuple(value)


def parse_objective(raw: object, where: str) -> Objective:
    """Validate one entry of the objectives file."""
    if not isinstance(raw, dict):
        raise PolicyError(where, "each objective must be a mapping")
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise PolicyError(where, f"unknown objective field(s) {', '.join(unknown)}")
    ident = _text(raw, "id", where)
    where = f"{where} ({ident})"
    section = _text(raw, "section", where)
    match = _ID.match(ident)
    if not match or match.group(1) != section:
        raise PolicyError(where, f"objective id must be OBJ-{section}-NN (two digits)")
    kind = _text(raw, "kind", where)
    if kind not in KINDS:
        raise PolicyError(where, f"objective kind '{kind}'; allowed: {', '.join(KINDS)}")
    rules = _rules(raw, where)
    reason = _text(raw, "not_checkable", where, required=False)
    if bool(rules) == bool(reason):
        raise PolicyError(where, "an objective names either its rules or why it is not checkable (exactly one)")
    note = _text(raw, "note", where, required=False)
    if note and not rules:
        raise PolicyError(where, "'note' says what the rules leave unchecked; an objective without rules has none")
    return Objective(ident, section, kind, _text(raw, "context", where), _text(raw, "text", where), rules, reason, note)


def parse_objectives(text: str, origin: str = f"policies/{OBJECTIVES_FILE}") -> tuple[Objective, ...]:
    """Parse and validate the objectives file; ids are unique."""
    try:
        doc = safe_yaml.load(text)
    except yaml.YAMLError as err:
        raise PolicyError(origin, f"not valid YAML: {err}") from None
    entries = doc.get("objectives") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise PolicyError(origin, "expected a mapping with a list 'objectives'")
    objectives = tuple(parse_objective(raw, f"{origin}: entry {n}") for n, raw in enumerate(entries, 1))
    seen: set[str] = set()
    for objective in objectives:
        if objective.id in seen:
            raise PolicyError(origin, f"objective id {objective.id} is listed twice")
        seen.add(objective.id)
    return objectives


@lru_cache(maxsize=1)
def load_objectives() -> tuple[Objective, ...]:
    """The shipped objectives, in document order (raises PolicyError when the file is malformed)."""
    text = files(__package__).joinpath(OBJECTIVES_FILE).read_text(encoding="utf-8")
    return tuple(sorted(parse_objectives(text), key=lambda o: (section_key(o.section), o.id)))
