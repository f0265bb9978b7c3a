"""The deployment's shape — domains, devices, links — with each element's worst result.

Renderer-neutral: `report/topology.py` draws it (DOT, Mermaid, SVG) and the JSON report carries
it, so a saved report can still be drawn. Built from the compiled input and the rule results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from .model import RuleResult

# Worst first: an element shows the first of these that any result gives it.
ELEMENT_STATUSES = ("fail", "waived", "pass", "not_applicable")
_EXAMINED = ("pass", "fail", "waived")  # statuses of a rule that looked at its subjects


@dataclass(frozen=True)
class TopoDomain:
    """A security service domain."""

    id: str
    kind: str
    status: str
    line: int = 0


@dataclass(frozen=True)
class TopoDevice:
    """A device (or a fleet of them, `count` > 1) and the domain it is in."""

    id: str
    kind: str
    count: int
    domain: str
    status: str
    line: int = 0


@dataclass(frozen=True)
class TopoLink:
    """A link; `source` initiates (both ends may when `bidirectional`)."""

    id: str
    source: str
    target: str
    bidirectional: bool
    status: str
    line: int = 0


@dataclass(frozen=True)
class Topology:
    """Domains, devices and links in source order."""

    domains: tuple[TopoDomain, ...]
    devices: tuple[TopoDevice, ...]
    links: tuple[TopoLink, ...]

    def devices_in(self, domain: str) -> tuple[TopoDevice, ...]:
        """The devices of one domain, in source order."""
        return tuple(d for d in self.devices if d.domain == domain)


def worst(statuses: Iterable[str]) -> str:
    """The worst of some element statuses; `not_applicable` when there are none."""
    found = set(statuses)
    return next((s for s in ELEMENT_STATUSES if s in found), "not_applicable")


def element_statuses(results: Iterable[RuleResult]) -> dict[tuple[str, str], str]:
    """(collection, element id) -> worst status, for every element a finding names.

    A standing finding (not waived, or its waiver expired) is a failure; a waived one is waived.
    """
    seen: dict[tuple[str, str], list[str]] = {}
    for result in results:
        for finding in result.findings:
            key = (finding.subject.collection, finding.subject.id)
            seen.setdefault(key, []).append("waived" if finding.waived else "fail")
    return {key: worst(values) for key, values in seen.items()}


def _examined(results: Iterable[RuleResult]) -> set[str]:
    """Collections that at least one rule examined (it passed, failed or was waived)."""
    return {r.rule.subject for r in results if r.status in _EXAMINED}


def _status(collection: str, element_id: str, named: Mapping[tuple[str, str], str], examined: set[str]) -> str:
    # An element no finding names passed if some rule looked at its collection; else nothing applied.
    return named.get((collection, element_id)) or ("pass" if collection in examined else "not_applicable")


def _line(item: Mapping[str, Any]) -> int:
    return int((item.get("span") or {}).get("line", 0))


def build_topology(doc: Mapping[str, Any], results: Iterable[RuleResult]) -> Topology:
    """The topology of a compiled input (`amisec compile`), coloured by the results."""
    results = tuple(results)
    named, examined = element_statuses(results), _examined(results)
    domains = tuple(
        TopoDomain(d["id"], d["kind"], _status("domains", d["id"], named, examined), _line(d))
        for d in doc.get("domains") or []
    )
    devices = tuple(
        TopoDevice(d["id"], d["kind"], int(d.get("count") or 1), d["domain"], _status("devices", d["id"], named, examined), _line(d))
        for d in doc.get("devices") or []
    )
    links = tuple(
        TopoLink(lk["id"], lk["from"], lk["to"], bool(lk.get("bidirectional")), _status("links", lk["id"], named, examined), _line(lk))
        for lk in doc.get("links") or []
    )
    return Topology(domains, devices, links)
