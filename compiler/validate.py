"""Semantic checks of a model: ids are unique, every reference names an element of the right
kind. Collects every problem instead of stopping at the first."""
from __future__ import annotations

from typing import Any, Iterator, NamedTuple

from .diagnostics import Diagnostic, allowed_words_hint, suggest
from .model import Agreement, Delegation, Device, Domain, Flow, Link, Model, Party, Ref
from .vocab import PARTY_KINDS

COLLECTIONS = ("parties", "agreements", "domains", "devices", "links", "flows", "delegations")
SINGULAR = {
    "parties": "party",
    "agreements": "agreement",
    "domains": "domain",
    "devices": "device",
    "links": "link",
    "flows": "flow",
    "delegations": "delegation",
}


COLLECTION_OF: dict[type, str] = {
    Party: "parties",
    Agreement: "agreements",
    Domain: "domains",
    Device: "devices",
    Link: "links",
    Flow: "flows",
    Delegation: "delegations",
}


class Located(NamedTuple):
    """An element, its collection and its position there."""

    collection: str
    index: int
    element: Any


class Index:
    """Every element by id, one namespace for all kinds: the element and its position in its
    collection. Two flat dicts filled in bulk, because a `Located` made for each element triples
    the time of indexing 100k elements (new memory for each tuple); `get` makes one on demand."""

    __slots__ = ("elements", "positions")

    def __init__(self, elements: dict[str, Any], positions: dict[str, int]) -> None:
        self.elements = elements
        self.positions = positions

    def get(self, name: str) -> Located | None:
        """The element named `name` with its collection and position, or None."""
        element = self.elements.get(name)
        return None if element is None else Located(COLLECTION_OF[type(element)], self.positions[name], element)


def index_ids(model: Model, problems: list[Diagnostic]) -> Index:
    """Every element by id (one namespace for all kinds); duplicates are reported with both lines,
    the later of two declarations as the duplicate, in source order."""
    elements: dict[str, Any] = {}
    positions: dict[str, int] = {}
    declared = 0
    for collection in COLLECTIONS:
        of_collection = getattr(model, collection)
        names = [element.id for element in of_collection]
        elements.update(zip(names, of_collection))
        positions.update(zip(names, range(len(names))))
        declared += len(names)
    if len(elements) == declared:
        return Index(elements, positions)
    return _index_with_duplicates(model, problems)


def _index_with_duplicates(model: Model, problems: list[Diagnostic]) -> Index:
    """`index_ids` where some id is declared more than once: the first declaration in the source
    keeps the id, and each later one is reported."""
    ids: dict[str, Located] = {}
    duplicates: list[tuple[Located, Located]] = []  # (the later, the first)
    for collection in COLLECTIONS:
        for i, element in enumerate(getattr(model, collection)):
            loc = Located(collection, i, element)
            first = ids.setdefault(element.id, loc)
            if first is not loc:
                if _where(element) < _where(first.element):
                    ids[element.id], first, loc = loc, loc, first
                duplicates.append((loc, first))
    # the first of each id is known only once every element is seen
    for later, _ in sorted(duplicates, key=lambda pair: _where(pair[0].element)):
        first = ids[later.element.id]
        element = later.element
        problems.append(
            Diagnostic(
                element.span,
                f"duplicate id '{element.id}': already used by the {SINGULAR[first.collection]} on line {first.element.span.line}",
                "every party, agreement, domain, device, link, flow and delegation needs its own id",
                (first.element.span,),
            )
        )
    return Index({name: loc.element for name, loc in ids.items()}, {name: loc.index for name, loc in ids.items()})


def _where(element: Any) -> tuple[int, int]:
    return element.span.line, element.span.column


def _refs(model: Model) -> Iterator[tuple[Ref, tuple[str, ...], str, str | None]]:
    """Every reference in the model with the collections it may point into and what it is for
    (`what.format(whose)`: the words are put together only for a reference that is wrong)."""
    if model.deployment and model.deployment.utility:
        yield model.deployment.utility, ("parties",), "the deployment's utility", None
    for a in model.agreements:
        for r in a.between:
            yield r, ("parties",), "a party of agreement {}", a.id
        for r in a.covers:
            yield r, ("devices", "links"), "what agreement {} covers", a.id
    for d in model.domains:
        if d.customer:
            yield d.customer, ("parties",), "the customer of domain {}", d.id
    for dev in model.devices:
        yield dev.domain, ("domains",), "the domain of device {}", dev.id
        if dev.owner:
            yield dev.owner, ("parties",), "the owner of device {}", dev.id
        c = dev.control
        if c:
            yield c.by, ("parties",), "the controller of device {}", dev.id
            if c.party:
                yield c.party, ("parties",), f"the party {c.basis} of device {{}}", dev.id
            if c.agreement:
                yield c.agreement, ("agreements",), "the agreement device {} is controlled under", dev.id
    for link in model.links:
        yield link.source, ("devices",), "an end of link {}", link.id
        yield link.target, ("devices",), "an end of link {}", link.id
    for f in model.flows:
        yield f.source, ("devices",), "the source of flow {}", f.id
        yield f.target, ("devices",), "the destination of flow {}", f.id
        if f.signed_by:
            yield f.signed_by, ("parties",), "the signer of flow {}", f.id
    for g in model.delegations:
        for r in (g.source, g.target):
            if r:
                yield r, ("parties",), "a party of delegation {}", g.id
        for r in g.over:
            yield r, ("devices",), "what delegation {} is over", g.id
        if g.consent:
            yield g.consent, ("agreements",), "the consent of delegation {}", g.id
    for w in model.waivers:
        yield w.on, COLLECTIONS, "the element waiver {} is on", w.rule


def check_references(model: Model, ids: Index, problems: list[Diagnostic]) -> None:
    """Every reference resolves, and to an element of a kind it may name."""
    by_collection: dict[str, list[str]] | None = None  # made for the first reference that fails
    elements = ids.elements
    for ref, allowed, what, whose in _refs(model):
        element = elements.get(ref.id)
        if element is not None and COLLECTION_OF[type(element)] in allowed:
            continue
        loc = ids.get(ref.id)
        purpose = what.format(whose)
        kinds = " or ".join(SINGULAR[c] for c in allowed) if len(allowed) < 3 else "element"
        plural = " or ".join(allowed) if len(allowed) < 3 else "elements"
        if loc is None:
            if by_collection is None:
                by_collection = {c: [] for c in COLLECTIONS}
                for name, known in elements.items():
                    by_collection[COLLECTION_OF[type(known)]].append(name)
            candidates = [n for c in allowed for n in by_collection[c]]
            close = suggest(ref.id, candidates)
            hint = f"did you mean '{close}'?" if close else (
                allowed_words_hint(ref.id, sorted(candidates), f"known {plural}") if candidates else f"declare the {kinds} first"
            )
            problems.append(Diagnostic(ref.span, f"unknown {kinds} '{ref.id}' ({purpose})", hint))
        else:
            problems.append(
                Diagnostic(
                    ref.span,
                    f"'{ref.id}' is {_a(SINGULAR[loc.collection])}, but {purpose} must be {_a(kinds)}",
                    f"{ref.id} is declared on line {loc.element.span.line}",
                    (loc.element.span,),
                )
            )


def _a(noun: str) -> str:
    """The noun with its indefinite article: 'an agreement', 'a party'."""
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


def check_model(model: Model) -> tuple[Index, list[Diagnostic]]:
    """Run every semantic check; returns the id index and all problems found."""
    problems: list[Diagnostic] = []
    ids = index_ids(model, problems)
    check_references(model, ids, problems)
    _check_utility(model, ids, problems)
    return ids, problems


def _check_utility(model: Model, ids: Index, problems: list[Diagnostic]) -> None:
    """The party a deployment belongs to must be declared as a utility."""
    ref = model.deployment.utility if model.deployment else None
    loc = ids.get(ref.id) if ref else None
    # an unknown party kind is reported where it is written; a second error here would only echo it
    if ref and loc and loc.collection == "parties" and loc.element.kind in PARTY_KINDS and loc.element.kind != "utility":
        problems.append(
            Diagnostic(
                ref.span,
                f"the deployment's utility '{ref.id}' is a {loc.element.kind} party, not a utility",
                f"declare it as: party {ref.id} \"…\" : utility",
                (loc.element.span,),
            )
        )
