"""The rule → standard controls mapping (standards/mapping.yaml).

The mapping is the single source of truth for which controls a rule implements. It is validated
against the catalogs when loaded: a standard key or control id that no catalog lists is an error,
so a typo can never put an invented control into a report.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

import yaml
from amisec import safe_yaml
from amisec.cache import memo

from .catalog import MAPPING_FILE, Catalog, Control, StandardsError, load_catalogs

RULE_ID = re.compile(r"^AMI-[A-Z]+-\d{3}$")

Mapping = dict[str, dict[str, list[str]]]


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _check_controls(rule: str, key: str, ids: object, cat: Catalog) -> list[str]:
    """Problems with one rule's list of control ids for one standard."""
    where = f"rule {rule}: {key}"
    if not isinstance(ids, list) or not ids:
        return [f"{where}: expected a non-empty list of control ids"]
    problems = []
    for control_id in ids:
        if not isinstance(control_id, str):
            problems.append(f"{where}: control id {control_id!r} is not a string (quote it)")
        elif cat.get(control_id) is None:
            hint = _suggest(control_id, list(cat.ids))
            problems.append(f"{where}: {cat.name} has no control '{control_id}'{hint}")
    duplicates = sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1})
    if duplicates:
        problems.append(f"{where}: listed more than once: {', '.join(duplicates)}")
    return problems


def _check_rule(rule: object, entry: object, catalogs: dict[str, Catalog]) -> list[str]:
    """Problems with one rule's entry."""
    if not isinstance(rule, str) or not RULE_ID.match(rule):
        return [f"rule id {rule!r} is not of the form AMI-<FAMILY>-<NNN>"]
    if not isinstance(entry, dict) or not entry:
        return [f"rule {rule}: expected a mapping of standard key to control ids"]
    problems = []
    for key, ids in entry.items():
        if key not in catalogs:
            hint = _suggest(str(key), sorted(catalogs))
            problems.append(f"rule {rule}: unknown standard '{key}'{hint}")
        else:
            problems.extend(_check_controls(rule, key, ids, catalogs[key]))
    return problems


def parse_mapping(
    text: str, catalogs: dict[str, Catalog], origin: str = f"standards/{MAPPING_FILE}"
) -> Mapping:
    """Parse and validate mapping YAML against `catalogs`.

    Raises StandardsError listing every problem found (not only the first).
    """
    try:
        doc = safe_yaml.load(text)
    except yaml.YAMLError as exc:
        raise StandardsError(f"{origin}: not valid YAML: {exc}") from exc
    doc = {} if doc is None else doc
    if not isinstance(doc, dict):
        raise StandardsError(f"{origin}: expected a mapping of rule id to standards")
    problems = [p for rule, entry in doc.items() for p in _check_rule(rule, entry, catalogs)]
    if problems:
        raise StandardsError(f"{origin}:\n" + "\n".join(f"  {p}" for p in problems))
    return {rule: {key: list(ids) for key, ids in entry.items()} for rule, entry in doc.items()}


@lru_cache(maxsize=1)
def _mapping_text() -> str:
    return files(__package__).joinpath(MAPPING_FILE).read_text(encoding="utf-8")


def load_mapping() -> Mapping:
    """The shipped rule → {standard key: [control ids]} mapping, validated against the catalogs."""
    mapping = _validated()
    return {rule: {k: list(ids) for k, ids in entry.items()} for rule, entry in mapping.items()}


@lru_cache(maxsize=1)
def _validated() -> Mapping:
    catalogs = load_catalogs()
    inputs = [Path(__file__).read_bytes(), _mapping_text(), repr(sorted(catalogs.items()))]
    return memo("mapping", inputs, lambda: parse_mapping(_mapping_text(), catalogs))


def rule_controls(rule_id: str, keys: list[str] | None = None) -> dict[str, list[Control]]:
    """The controls one rule maps to, per standard key, limited to `keys` when given.

    Standards the rule has no controls in are left out; a rule absent from the mapping yields {}.
    """
    catalogs = load_catalogs()
    entry = _validated().get(rule_id, {})
    wanted = [k for k in entry if keys is None or k in keys]
    # Every id is known to exist (the mapping was validated); the filter only narrows the type.
    return {k: [c for i in entry[k] if (c := catalogs[k].get(i)) is not None] for k in wanted}
