"""Rows of `amisec standards [STANDARD]`: each control with the rules that cover it."""

from __future__ import annotations

from dataclasses import dataclass

from .catalog import Catalog, get_catalog, label, load_catalogs
from .mapping import load_mapping


@dataclass(frozen=True)
class StandardsRow:
    """One control of one standard and the ids of the rules mapped to it."""

    standard: str
    id: str
    title: str
    verified: bool
    rules: tuple[str, ...]

    @property
    def label(self) -> str:
        """The control id as outputs show it (`SG.SC-8 (unverified)`)."""
        return label(self.id, self.verified)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form with a stable key order."""
        return {
            "standard": self.standard,
            "id": self.id,
            "title": self.title,
            "verified": self.verified,
            "rules": list(self.rules),
        }


def _covering_rules(key: str) -> dict[str, list[str]]:
    """Control id → sorted rule ids mapped to it, for one standard."""
    covering: dict[str, list[str]] = {}
    for rule, entry in load_mapping().items():
        for control_id in entry.get(key, []):
            covering.setdefault(control_id, []).append(rule)
    return {cid: sorted(rules) for cid, rules in covering.items()}


def _rows(cat: Catalog) -> list[StandardsRow]:
    covering = _covering_rules(cat.key)
    return [
        StandardsRow(cat.key, c.id, c.title, c.verified, tuple(covering.get(c.id, ())))
        for c in cat.controls
    ]


def standards_table(key: str | None = None) -> list[StandardsRow]:
    """Rows for one standard (by key) or, with None, for every standard in key order.

    An unknown key raises UnknownStandardError, whose message lists the known keys.
    """
    if key is not None:
        return _rows(get_catalog(key))
    return [row for cat in load_catalogs().values() for row in _rows(cat)]
