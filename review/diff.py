"""Compare two checked versions of a plan: what got worse, what got better, and what changed.

Findings are matched by rule id and element id (ids are stable across versions; lines are not).
A finding *stands* when no active waiver accepts it. The comparison is renderer-neutral; see
`review/diff_render.py` for the table, Markdown and JSON forms.

- Rules: a rule is worse when it has a standing finding the old plan did not have (a new failure),
  better when it lost standing findings and gained none, changed when only its status moved
  (for example pass ↔ not applicable, because a use case was enabled).
- Controls: each mapped standard control takes the worst status of the rules mapped to it; the
  controls whose status moved are listed.
- Elements added or removed (any kind), each with its result; waivers added, removed, expired,
  changed or gone stale; use cases and standards added or removed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from amisec.policies.catalog import RuleMeta
from amisec.results.elements import KINDS
from amisec.results.model import ControlRef, Finding, RuleResult, Waiver, severity_rank
from amisec.results.topology import worst

from .snapshot import Snapshot

DIRECTIONS = ("worse", "better", "changed")
ELEMENT_COLLECTIONS = ("parties", "agreements", "domains", "devices", "links", "flows", "delegations")
_RANK = {"fail": 0, "waived": 1, "pass": 2, "not_applicable": 2}  # lower is worse
_EXAMINED = ("pass", "fail", "waived")


@dataclass(frozen=True)
class FindingChange:
    """A finding that appeared or went away, and how (`new`, `new element`, `no longer waived`,
    `fixed`, `fixed, was waived`, `now waived`, `element removed`)."""

    finding: Finding
    how: str


@dataclass(frozen=True)
class RuleChange:
    """One rule whose verdict or offending elements differ between the versions."""

    rule: RuleMeta
    old: str | None  # status; None when the rule was not checked on that side
    new: str | None
    direction: str  # worse | better | changed
    introduced: tuple[FindingChange, ...]  # standing in the new plan, not in the old
    resolved: tuple[FindingChange, ...]  # standing (or waived) in the old plan, no longer standing
    waived: tuple[FindingChange, ...] = ()  # new findings that a waiver accepts


@dataclass(frozen=True)
class ControlChange:
    """A standard control whose status moved; `rules` are the rules that decide the worse side."""

    control: ControlRef
    old: str
    new: str
    direction: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class ElementChange:
    """An element present in only one version, with its result in that version."""

    collection: str
    id: str
    detail: str  # device kind and domain, link ends, …
    line: int
    status: str  # worst result on it: fail | waived | pass | not_applicable
    failing: tuple[str, ...]  # ids of the rules with a standing finding on it

    @property
    def kind(self) -> str:
        """The element type as the language spells it (`device`, `link`, …)."""
        return KINDS.get(self.collection, self.collection)


@dataclass(frozen=True)
class WaiverChange:
    """A waiver added, removed, expired, changed (approver, reason or expiry) or gone stale."""

    kind: str  # added | removed | expired | changed | stale
    waiver: Waiver  # the new version's waiver (the old one for `removed`)
    old: Waiver | None
    message: str


@dataclass(frozen=True)
class SetChange:
    """Words added to and removed from a list (use cases, standards)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]


@dataclass(frozen=True)
class PlanDiff:
    """Everything that differs between two checked versions of a plan."""

    old: Snapshot
    new: Snapshot
    rules: tuple[RuleChange, ...]
    controls: tuple[ControlChange, ...]
    added: tuple[ElementChange, ...]
    removed: tuple[ElementChange, ...]
    waivers: tuple[WaiverChange, ...]
    use_cases: SetChange
    standards: SetChange

    def by_direction(self, direction: str) -> tuple[RuleChange, ...]:
        """The rule changes in one direction."""
        return tuple(r for r in self.rules if r.direction == direction)

    def still_failing(self) -> tuple[str, ...]:
        """Ids of the rules that fail in both versions with the same standing elements."""
        changed = {r.rule.id for r in self.rules}
        before = {r.rule.id for r in self.old.report.results if r.status == "fail"}
        return tuple(r.rule.id for r in self.new.report.results
                     if r.status == "fail" and r.rule.id in before and r.rule.id not in changed)

    def new_failures(self, fail_on: str = "info") -> list[tuple[RuleChange, FindingChange]]:
        """Standing findings the old plan did not have, for rules at or above `fail_on` severity."""
        limit = severity_rank(fail_on)
        return [(r, f) for r in self.rules for f in r.introduced if severity_rank(r.rule.severity) <= limit]

    def exit_code(self, fail_on: str = "info") -> int:
        """1 when the new plan introduces a failure the old one did not have, else 0."""
        return 1 if self.new_failures(fail_on) else 0

    @property
    def unchanged(self) -> bool:
        """Nothing to report."""
        return not (self.rules or self.controls or self.added or self.removed or self.waivers
                    or self.use_cases.added or self.use_cases.removed or self.standards.added or self.standards.removed)


# --- rules ------------------------------------------------------------------------------------

def _key(finding: Finding) -> tuple[str, str]:
    return finding.subject.collection, finding.subject.id


def _element_ids(doc: Mapping[str, Any]) -> set[tuple[str, str]]:
    ids = {(c, str(item.get("id"))) for c in ELEMENT_COLLECTIONS for item in doc.get(c) or []}
    return ids | {("deployment", str(doc.get("deployment", {}).get("name")))}


def _introduced(old: RuleResult | None, new: RuleResult, old_ids: set[tuple[str, str]]) -> tuple[FindingChange, ...]:
    before = {_key(f): f for f in (old.findings if old else ())}
    out = []
    for finding in new.findings:
        if finding.waived:
            continue
        previous = before.get(_key(finding))
        if previous is not None and not previous.waived:
            continue
        how = "no longer waived" if previous is not None else "new" if _key(finding) in old_ids else "new element"
        out.append(FindingChange(finding, how))
    return tuple(out)


def _resolved(old: RuleResult | None, new: RuleResult | None, new_ids: set[tuple[str, str]]) -> tuple[FindingChange, ...]:
    """Standing findings that no longer stand, and waived ones that are gone altogether."""
    after = {_key(f): f for f in (new.findings if new else ())}
    out = []
    for finding in old.findings if old else ():
        now = after.get(_key(finding))
        if now is not None and (finding.waived or not now.waived):
            continue
        if now is not None:
            how = "now waived"
        elif _key(finding) not in new_ids:
            how = "element removed"
        else:
            how = "fixed, was waived" if finding.waived else "fixed"
        out.append(FindingChange(finding, how))
    return tuple(out)


def _newly_waived(old: RuleResult | None, new: RuleResult) -> tuple[FindingChange, ...]:
    """Findings of the new plan, waived there, that the old plan did not have at all."""
    before = {_key(f) for f in (old.findings if old else ())}
    return tuple(FindingChange(f, f"new, waived until {f.waiver.expires}" if f.waiver and f.waiver.expires else "new, waived")
                 for f in new.findings if f.waived and _key(f) not in before)


def _direction(old: str | None, new: str | None, introduced: Sequence[FindingChange], resolved: Sequence[FindingChange]) -> str | None:
    """worse, better, changed, or None when nothing about the rule changed."""
    if introduced:
        return "worse"
    if resolved:
        return "better"
    if old == new:
        return None
    if old is None or new is None or _RANK[old] == _RANK[new]:
        return "changed"
    return "worse" if _RANK[new] < _RANK[old] else "better"


def _order(change: RuleChange) -> tuple[int, int, str]:
    return DIRECTIONS.index(change.direction), severity_rank(change.rule.severity), change.rule.id


def rule_changes(old: Snapshot, new: Snapshot) -> tuple[RuleChange, ...]:
    """Every rule whose status or standing findings differ, worse first, then by severity."""
    before = {r.rule.id: r for r in old.report.results}
    after = {r.rule.id: r for r in new.report.results}
    old_ids, new_ids = _element_ids(old.doc), _element_ids(new.doc)
    changes = []
    for rule_id in sorted(before.keys() | after.keys()):
        o, n = before.get(rule_id), after.get(rule_id)
        introduced = _introduced(o, n, old_ids) if n else ()
        resolved = _resolved(o, n, new_ids)
        waived = _newly_waived(o, n) if n else ()
        o_status, n_status = (o.status if o else None), (n.status if n else None)
        direction = _direction(o_status, n_status, introduced, resolved)
        if direction:
            rule = (n or o).rule  # type: ignore[union-attr]
            changes.append(RuleChange(rule, o_status, n_status, direction, introduced, resolved, waived))
    return tuple(sorted(changes, key=_order))


# --- controls ---------------------------------------------------------------------------------

def control_statuses(results: Iterable[RuleResult]) -> dict[tuple[str, str], tuple[ControlRef, str, dict[str, str]]]:
    """(standard, control id) -> (the control, its worst status, {rule id: status}) over the results."""
    seen: dict[tuple[str, str], tuple[ControlRef, dict[str, str]]] = {}
    for result in results:
        for control in result.controls:
            entry = seen.setdefault((control.standard, control.id), (control, {}))
            entry[1][result.rule.id] = result.status
    return {key: (control, worst(by_rule.values()), by_rule) for key, (control, by_rule) in seen.items()}


def control_changes(old: Snapshot, new: Snapshot) -> tuple[ControlChange, ...]:
    """Controls reported in both versions whose status moved."""
    before, after = control_statuses(old.report.results), control_statuses(new.report.results)
    changes = []
    for key in sorted(before.keys() & after.keys()):
        (_, o_status, o_rules), (control, n_status, n_rules) = before[key], after[key]
        if o_status == n_status:
            continue
        rank_o, rank_n = _RANK[o_status], _RANK[n_status]
        direction = "changed" if rank_o == rank_n else "worse" if rank_n < rank_o else "better"
        deciding = n_rules if direction != "better" else o_rules
        worst_side = n_status if direction != "better" else o_status
        rules = tuple(sorted(r for r, s in deciding.items() if s == worst_side))
        changes.append(ControlChange(control, o_status, n_status, direction, rules))
    return tuple(sorted(changes, key=lambda c: (DIRECTIONS.index(c.direction), c.control.standard, c.control.id)))


# --- elements ---------------------------------------------------------------------------------

def _detail(collection: str, item: Mapping[str, Any]) -> str:
    if collection == "devices":
        count = int(item.get("count") or 1)
        fleet = f" ×{count:,}" if count > 1 else ""
        return f"{item.get('kind')}{fleet} in {item.get('domain')}"
    if collection == "links":
        return f"{item.get('from')} {'<->' if item.get('bidirectional') else '->'} {item.get('to')}"
    if collection == "flows":
        return f"{item.get('data')} {item.get('from')} -> {item.get('to')}"
    if collection == "delegations":
        return f"{item.get('from')} -> {item.get('to')}"
    return str(item.get("kind") or "")


def _element(snapshot: Snapshot, collection: str, item: Mapping[str, Any]) -> ElementChange:
    element_id = str(item.get("id"))
    results = snapshot.report.results
    standing = [r for r in results if any(_key(f) == (collection, element_id) and not f.waived for f in r.findings)]
    waived = any(_key(f) == (collection, element_id) for r in results for f in r.findings)
    examined = any(r.rule.subject == collection and r.status in _EXAMINED for r in results)
    status = "fail" if standing else "waived" if waived else "pass" if examined else "not_applicable"
    line = int((item.get("span") or {}).get("line", 0))
    return ElementChange(collection, element_id, _detail(collection, item), line, status,
                         tuple(sorted(r.rule.id for r in standing)))


def _only_in(side: Snapshot, other: Snapshot) -> tuple[ElementChange, ...]:
    theirs = _element_ids(other.doc)
    return tuple(
        _element(side, c, item)
        for c in ELEMENT_COLLECTIONS for item in side.doc.get(c) or []
        if (c, str(item.get("id"))) not in theirs
    )


# --- waivers ----------------------------------------------------------------------------------

def _first_by_key(waivers: Iterable[Waiver]) -> dict[tuple[str, str], Waiver]:
    out: dict[tuple[str, str], Waiver] = {}
    for waiver in waivers:
        out.setdefault((waiver.rule, waiver.on), waiver)
    return out


def _what_changed(old: Waiver, new: Waiver) -> str:
    parts = []
    if old.expires != new.expires:
        parts.append(f"expiry {old.expires or 'none'} → {new.expires or 'none'}")
    if old.approved_by != new.approved_by:
        parts.append(f"approver {old.approved_by!r} → {new.approved_by!r}")
    if old.reason != new.reason:
        parts.append("reason reworded")
    return ", ".join(parts)


def waiver_changes(old: Snapshot, new: Snapshot) -> tuple[WaiverChange, ...]:
    """Waivers added, removed, newly expired, changed, or newly stale (what they waived is fixed)."""
    before, after = _first_by_key(old.waivers), _first_by_key(new.waivers)
    changes = []
    for key, waiver in after.items():
        previous = before.get(key)
        if previous is None:
            late = " (already expired)" if waiver.expired else ""
            changes.append(WaiverChange("added", waiver, None, f"{waiver.describe()}{late}"))
        elif waiver.expired and not previous.expired:
            changes.append(WaiverChange("expired", waiver, previous, f"expired on {waiver.expires}; the failure stands again"))
        elif _what_changed(previous, waiver):
            changes.append(WaiverChange("changed", waiver, previous, _what_changed(previous, waiver)))
    changes += [WaiverChange("removed", w, w, w.describe()) for key, w in before.items() if key not in after]
    stale_before = {(n.waiver.rule, n.waiver.on) for n in old.report.waiver_notes if n.kind == "stale"}
    for note in new.report.waiver_notes:
        key = (note.waiver.rule, note.waiver.on)
        if note.kind == "stale" and key not in stale_before and key in before:
            changes.append(WaiverChange("stale", note.waiver, before[key], "what it waived now passes: remove the waiver"))
    return tuple(changes)


# --- the whole comparison ---------------------------------------------------------------------

def _set_change(old: Iterable[str], new: Iterable[str]) -> SetChange:
    o, n = list(old), list(new)
    return SetChange(tuple(x for x in n if x not in o), tuple(x for x in o if x not in n))


def diff_plans(old: Snapshot, new: Snapshot) -> PlanDiff:
    """Compare two versions of a plan checked with the same rules, engine and date."""
    o_dep, n_dep = old.doc.get("deployment", {}), new.doc.get("deployment", {})
    return PlanDiff(
        old=old,
        new=new,
        rules=rule_changes(old, new),
        controls=control_changes(old, new),
        added=_only_in(new, old),
        removed=_only_in(old, new),
        waivers=waiver_changes(old, new),
        use_cases=_set_change(o_dep.get("use_cases") or [], n_dep.get("use_cases") or []),
        standards=_set_change(o_dep.get("standards") or [], n_dep.get("standards") or []),
    )
