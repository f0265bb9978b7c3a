"""The objectives file (policies/objectives.yaml) against the AMI Security Architecture and the rules.

The document is parsed here, independently of the file, to enumerate what must be traced: every
"Security Objective" bullet of 3.1.2–3.1.4, every sentence under "Assumptions" and "Ownership and
Control Concerns" of 3.2.1–3.2.6, the needs and constraints of 3.1.1. So an objective cannot be
left out silently. The document is read from the frozen copy in tests/data (a clean clone has no
shared folder); a test keeps the copy equal to the shared original when that is present.
"""
from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

import pytest

from amisec.engine.errors import PolicyError
from amisec.policies.catalog import load_catalog
from amisec.policies.objectives import load_objectives, parse_objectives

ROOT = Path(__file__).resolve().parent.parent
FROZEN_SEED = ROOT / "tests" / "data" / "seed.txt"
SHARED_SEED = ROOT.parent / "shared" / "seed" / "000_a9dd9de902c18df0.txt"
HEADING = re.compile(r"^(\d+(?:\.\d+)*) [A-Z]")
BULLET = "\u00b7"
OBJECTIVE_HEADER = "Security Objective:"
DOMAIN_SECTIONS = ("3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5", "3.2.6")


def norm(text: str) -> str:
    """Whitespace folded: the only difference allowed between the file and the document."""
    return " ".join(text.split())


@lru_cache(maxsize=1)
def seed_lines() -> tuple[str, ...]:
    return tuple(FROZEN_SEED.read_text(encoding="utf-8").splitlines())


def section_lines(section: str, subsections: bool = True) -> list[str]:
    """A numbered heading and the lines under it, up to the next heading outside it (or any heading)."""
    lines = seed_lines()
    heads = [(i, m.group(1)) for i, line in enumerate(lines) if (m := HEADING.match(line))]
    for n, (start, name) in enumerate(heads):
        if name == section:
            end = next((i for i, other in heads[n + 1:] if not (subsections and other.startswith(section + "."))), len(lines))
            return list(lines[start:end])
    raise AssertionError(f"section {section} not found in the document")


def section_text(section: str) -> str:
    return norm(" ".join(section_lines(section)))


def bullet(line: str) -> str | None:
    stripped = line.strip()
    return norm(stripped[1:]) if stripped.startswith(BULLET) else None


def objective_bullets(section: str) -> list[str]:
    """The bullets of each "Security Objective:" block of a section, in order.

    A block is the run of bullets after the header, up to the next line that is not a bullet. The
    description of the next use case can hide at the end of a run; it is cut off where a bullet
    ends in ':' (a use case heading), or where a bullet other than the first sits right above the
    next "Security Objective:" header (that bullet describes the next use case).
    """
    lines = section_lines(section, subsections=False)
    found: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != OBJECTIVE_HEADER:
            i += 1
            continue
        run: list[tuple[str, bool]] = []
        i += 1
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            text = bullet(lines[i])
            if text is None:
                break
            above_header = i + 1 < len(lines) and lines[i + 1].strip() == OBJECTIVE_HEADER
            run.append((text, above_header))
            i += 1
        for n, (text, above_header) in enumerate(run):
            if text.endswith(":") or (n > 0 and above_header):
                break
            found.append(text)
    return found


def lines_between(section: str, start: str, stop: str | None) -> list[str]:
    """The non-blank lines of a section after the line `start`, up to the line `stop` (or the end)."""
    lines = [line.strip() for line in section_lines(section, subsections=False)]
    first = lines.index(start) + 1
    last = lines.index(stop, first) if stop else len(lines)
    return [line for line in lines[first:last] if line]


def sentences(lines: list[str]) -> list[str]:
    """Sentences of some paragraphs: split after a full stop followed by a capital letter."""
    return [s for line in lines for s in re.split(r"(?<=\.)\s+(?=[A-Z])", norm(line)) if s]


def ownership_sentences(section: str) -> list[str]:
    return sentences(lines_between(section, "Ownership and Control Concerns", None))


def assumption_sentences(section: str) -> list[str]:
    return sentences(lines_between(section, "Assumptions", "Ownership and Control Concerns"))


def top_level_bullets(start: str, stop: str | None) -> list[str]:
    return [b for line in lines_between("3.1.1", start, stop) if (b := bullet(line))]


@pytest.fixture(scope="module")
def objectives():
    return load_objectives()


@pytest.fixture(scope="module")
def rules():
    return {r.id: r for r in load_catalog().rules}


def texts_of(objectives, section: str, kinds: tuple[str, ...]) -> Counter:
    return Counter(norm(o.text) for o in objectives if o.section == section and o.kind in kinds)


def test_frozen_seed_is_current():
    if not SHARED_SEED.exists():
        pytest.skip(f"{SHARED_SEED} not present (clean clone): the frozen copy is used")
    assert FROZEN_SEED.read_bytes() == SHARED_SEED.read_bytes()


def test_the_parser_finds_what_the_document_holds():
    # Counted by hand in the document: a parser that drifts would make the coverage tests vacuous.
    assert [len(objective_bullets(s)) for s in ("3.1.2", "3.1.3", "3.1.4")] == [18, 3, 32]
    assert [len(ownership_sentences(s)) for s in DOMAIN_SECTIONS] == [4, 4, 5, 4, 4, 2]
    assert [len(assumption_sentences(s)) for s in DOMAIN_SECTIONS] == [1] * 6
    assert len(top_level_bullets("Constraints:", None)) == 4
    assert "PCI Compliance?" in objective_bullets("3.1.2")
    assert not any(b.startswith(("Customers can view", "It should also", "Posses", "Additional benefits"))
                   for s in ("3.1.2", "3.1.4") for b in objective_bullets(s))


@pytest.mark.parametrize("section", ["3.1.2", "3.1.3", "3.1.4"])
def test_every_security_objective_bullet_is_traced(objectives, section):
    # As a multiset: "To establish timely connectivity to connect/disconnect service" appears twice.
    assert texts_of(objectives, section, ("objective",)) == Counter(objective_bullets(section))


@pytest.mark.parametrize("section", DOMAIN_SECTIONS)
def test_every_ownership_and_control_sentence_is_traced(objectives, section):
    assert texts_of(objectives, section, ("ownership",)) == Counter(ownership_sentences(section))


@pytest.mark.parametrize("section", DOMAIN_SECTIONS)
def test_every_domain_assumption_is_traced(objectives, section):
    assert texts_of(objectives, section, ("assumption",)) == Counter(assumption_sentences(section))


def test_every_top_level_need_and_constraint_is_traced(objectives):
    assert texts_of(objectives, "3.1.1", ("constraint",)) == Counter(top_level_bullets("Constraints:", None))
    assert texts_of(objectives, "3.1.1", ("need",)) == Counter(top_level_bullets("General security interaction needs:", "Constraints:"))


def test_every_entry_is_verbatim_in_its_section(objectives):
    for objective in objectives:
        body = section_text(objective.section)
        assert norm(objective.text) in body, f"{objective.id}: text not found in section {objective.section}"
        assert norm(objective.context) in body, f"{objective.id}: context not found in section {objective.section}"


def test_every_rule_named_exists(objectives, rules):
    unknown = {(o.id, r) for o in objectives for r in o.rules if r not in rules}
    assert not unknown


def test_every_rule_traces_to_an_objective(objectives, rules):
    traced = {r for o in objectives for r in o.rules}
    assert sorted(set(rules) - traced) == []


def test_every_rule_quotes_its_objective_verbatim(rules):
    for rule in rules.values():
        assert norm(rule.objective) in section_text(rule.section), (
            f"{rule.id}: METADATA objective is not in section {rule.section} of the document")


def test_a_rule_quoting_an_objective_is_listed_for_it(objectives, rules):
    """A rule whose METADATA quotes an entry's sentence is among that entry's rules."""
    for objective in objectives:
        quoting = {r.id for r in rules.values() if r.section == objective.section and norm(r.objective) == norm(objective.text)}
        assert quoting <= set(objective.rules), f"{objective.id} misses {sorted(quoting - set(objective.rules))}"


def test_every_entry_has_rules_xor_a_reason(objectives):
    for objective in objectives:
        assert bool(objective.rules) != bool(objective.not_checkable), objective.id


def test_the_loader_rejects_an_entry_with_rules_and_a_reason():
    text = """objectives:
- id: OBJ-3.1.2-01
  section: "3.1.2"
  kind: objective
  context: c
  text: t
  rules: [AMI-INT-003]
  not_checkable: "both"
"""
    with pytest.raises(PolicyError, match="exactly one"):
        parse_objectives(text)


@pytest.mark.parametrize("change, message", [
    (("OBJ-3.1.2-01", "OBJ-3.1.4-01"), "OBJ-3.1.2-NN"),
    (("kind: objective", "kind: goal"), "allowed"),
    (("rules: [AMI-INT-003]", "rules: [int-003]"), "rule ids"),
    (("rules: [AMI-INT-003]", "not_checkable: ''"), "non-empty"),
])
def test_the_loader_rejects_malformed_entries(change, message):
    text = """objectives:
- id: OBJ-3.1.2-01
  section: "3.1.2"
  kind: objective
  context: c
  text: t
  rules: [AMI-INT-003]
"""
    with pytest.raises(PolicyError, match=message):
        parse_objectives(text.replace(*change))


def test_ids_are_unique_and_numbered_per_section(objectives):
    ids = [o.id for o in objectives]
    assert len(ids) == len(set(ids))
    assert all(o.id.startswith(f"OBJ-{o.section}-") for o in objectives)
