"""Which collection's elements each field a policy reads belongs to.

Field names are shared between collections (a delegation and a link both have `to`, a flow and a
link both `from_kind`), and the slimmer keeps a name in every collection where a policy reads it
in one: at 10k elements, one rule package in three is handed over half as many values again as
it reads. This reads each definition's bindings to tell which collection a variable holds
elements of, so a field read through it is kept only there.

The analysis is conservative: a variable is bound to a collection only when every one of its
bindings in its definition (and, for a function's parameter, every argument at every call of
that name, in any module) is an element of a collection: `some l in input.links`, `l :=
links[i]` after `links := input.links`, `input.devices[l.from_idx]`, an alias of such a
variable. A field read any other way (through a variable bound to anything else, a chain like
`d.a.b`, a quoted name, an unresolved call) is kept in every collection, as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from .rego_text import arguments, blank_strings, closing, definitions

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_COMMENT = re.compile(r"#[^\n]*")
_QUOTED = re.compile(r'"([a-z_][a-z0-9_]*)"')
# `some v in e`, `every v in e`, with an optional key variable before the value one
_IN = re.compile(rf"\b(?:some|every)\s+(?:({_IDENT})\s*,\s*)?({_IDENT})\s+in\s+")
# A variable bound some other way: inside an array or object pattern (`[a, b] := e`), or as
# a bare index (`xs[v]` binds v to each key when v is unbound)
_PATTERN = re.compile(r"[\[{]([^\[\]{}\n]*)[\]}]\s*(?::=|(?<![=!<>:])=(?!=))")
_BARE_INDEX = re.compile(rf"\[\s*({_IDENT})\s*\]")
# `v := e` or a unification `v = e` (not `==`, `!=`, `<=`, `>=`, `:=` of an `else`)
_ASSIGN = re.compile(rf"(?<![\w.\]])({_IDENT})\s*(?::=|(?<![=!<>:])=(?!=))\s*")
_READ = re.compile(rf"\.({_IDENT})")
_SIMPLE = re.compile(rf"{_IDENT}(?:\.{_IDENT}|\[[^\[\]\n]*\])*")  # a name, its fields and indexes
_CALL = re.compile(rf"(?<![\w.])((?:{_IDENT}\.)*{_IDENT})\(")
_KEYWORDS = frozenset({"else", "if", "some", "every", "in", "not", "contains", "with", "as", "default"})

# What an expression holds, as far as the analysis goes: elements of one of some collections
# ("element", {C, …}), one of those collections itself ("array", {C, …}), or anything else (None).
Kind = tuple[str, frozenset[str]] | None
_ROUNDS = 8  # calls nest at most this deep for a parameter to be bound (policies nest 3)


@dataclass(frozen=True)
class Owners:
    """The fields read only on elements of known collections (name -> those collections), and
    the names read any other way (kept in every collection)."""

    scoped: dict[str, frozenset[str]]
    anywhere: frozenset[str]


@dataclass
class _Definition:
    name: str
    params: tuple[str, ...]
    text: str  # comments removed and strings blanked, offsets as in the module


def field_owners(sources: Iterable[str]) -> Owners:
    """Where each field the policies read is read: see the module's account."""
    parsed: list[_Definition] = []
    quoted: set[str] = set()
    for source in sources:
        # a string may spell a field name (`object.get(d, "kind", …)`, `elements[i][field]`)
        text = _COMMENT.sub("", blank_strings(source, lambda literal: quoted.update(_QUOTED.findall(literal))))
        parsed.extend(_definitions(text))
    params: dict[tuple[str, int], Kind] = {}
    for _ in range(_ROUNDS):
        bound = [_bindings(d, params) for d in parsed]
        found = _parameter_kinds(parsed, bound)
        if found == params:
            break
        params = found
    else:
        bound = [_bindings(d, params) for d in parsed]
    scoped: dict[str, set[str]] = {}
    anywhere = set(quoted)
    for definition, kinds in zip(parsed, bound):
        for name, kind in _reads(definition.text, kinds):
            if kind is None:
                anywhere.add(name)
            else:
                scoped.setdefault(name, set()).update(kind[1])
    return Owners({n: frozenset(c) for n, c in scoped.items() if n not in anywhere}, frozenset(anywhere))


def _definitions(text: str) -> list[_Definition]:
    out = []
    for name, body in definitions(text):
        params: tuple[str, ...] = ()
        if body[len(name):].startswith("("):
            params = tuple(p.strip() for p in arguments(_inside(body, len(name))))
        out.append(_Definition(name, params, body))
    return out


def _inside(text: str, opening: int) -> str:
    """What is between the bracket at `opening` and its match (to the end if unmatched)."""
    return text[opening + 1:closing(text, opening)]


def _expression_at(text: str, pos: int) -> str:
    """The simple expression starting at `pos`: names, dots and bracketed indexes."""
    match = _SIMPLE.match(text, pos)
    return match.group() if match else ""


def _kind_of(expression: str, kinds: dict[str, Kind]) -> Kind:
    """What `expression` holds, given the kinds of the definition's variables."""
    parts = re.findall(rf"\.?({_IDENT})|(\[[^\[\]\n]*\])", expression)
    if not parts or not parts[0][0]:
        return None
    if parts[0][0] == "input":
        if len(parts) < 2 or not parts[1][0]:
            return None
        kind: Kind = ("array", frozenset({parts[1][0]}))
        rest = parts[2:]
    else:
        kind = kinds.get(parts[0][0])
        rest = parts[1:]
    for name, index in rest:
        if kind is None or name:  # a field of an element, or anything of anything else
            return None
        kind = ("element", kind[1]) if kind[0] == "array" else None
    return kind


def _bindings(definition: _Definition, params: dict[tuple[str, int], Kind]) -> dict[str, Kind]:
    """Each variable of the definition bound to a collection or its elements by all its bindings
    (a variable some binding leaves unknown is None); aliases are followed to a fixed point."""
    text = definition.text
    sites: dict[str, list[tuple[str, bool]]] = {}  # variable -> (expression, iterated over)
    for match in _IN.finditer(text):
        sites.setdefault(match.group(2), []).append((_expression_at(text, match.end()), True))
        if match.group(1):
            sites.setdefault(match.group(1), []).append(("", False))
    for match in _PATTERN.finditer(text):
        for name in re.findall(_IDENT, match.group(1)):
            sites.setdefault(name, []).append(("", False))
    for match in _BARE_INDEX.finditer(text):
        sites.setdefault(match.group(1), []).append(("", False))
    for match in _ASSIGN.finditer(text):
        if match.group(1) not in _KEYWORDS:
            sites.setdefault(match.group(1), []).append((_whole_expression(text, match.end()), False))
    kinds: dict[str, Kind] = {p: params.get((definition.name, k)) for k, p in enumerate(definition.params)
                              if re.fullmatch(_IDENT, p)}
    for p in kinds:
        if p in sites:
            kinds[p] = None  # a parameter cannot be rebound: `p = e` tests it; not our pattern
    local = {v: found for v, found in sites.items() if v not in kinds}
    for _ in range(_ROUNDS):
        changed = False
        for variable, found in local.items():
            kind = _agreed([_iterated(_kind_of(e, kinds)) if over else _kind_of(e, kinds) for e, over in found])
            if kinds.get(variable, "unset") != kind:
                kinds[variable], changed = kind, True
        if not changed:
            break
    return kinds


def _whole_expression(text: str, pos: int) -> str:
    """The expression assigned at `pos` if it is simple (ends the statement); else ''."""
    expression = _expression_at(text, pos)
    after = text[pos + len(expression):pos + len(expression) + 80].lstrip(" \t")
    return expression if not after or after[0] in "\n;|]})" else ""


def _iterated(kind: Kind) -> Kind:
    """The kind of a value `some v in e` binds: an element, when `e` is a collection."""
    return ("element", kind[1]) if kind is not None and kind[0] == "array" else None


def _agreed(kinds: list[Kind]) -> Kind:
    """What all bindings give together: elements (or collections) of any of theirs; None when
    one is unknown or they are not all of one sort."""
    if not kinds or None in kinds or len({k[0] for k in kinds}) > 1:
        return None
    return kinds[0][0], frozenset().union(*(k[1] for k in kinds))


def _parameter_kinds(parsed: list[_Definition], bound: list[dict[str, Kind]]) -> dict[tuple[str, int], Kind]:
    """For each function parameter, the kind every call of its name (in any module) passes."""
    arities = {(d.name, len(d.params)) for d in parsed if d.params}
    passed: dict[tuple[str, int], list[Kind]] = {}
    for definition, kinds in zip(parsed, bound):
        for call in _CALL.finditer(definition.text):
            name = call.group(1).rsplit(".", 1)[-1]
            if call.start() == 0:  # the definition's own head
                continue
            given = arguments(_inside(definition.text, call.end() - 1))
            if (name, len(given)) not in arities:
                continue
            for k, argument in enumerate(given):
                expression = argument.strip()
                kind = _kind_of(expression, kinds) if _expression_at(expression, 0) == expression else None
                passed.setdefault((name, k), []).append(kind)
    return {key: _agreed(found) for key, found in passed.items()}


def _reads(text: str, kinds: dict[str, Kind]) -> Iterable[tuple[str, Kind]]:
    """Every field read in `text`, with the kind of what it is read on (an element, or None)."""
    for match in _READ.finditer(text):
        kind = _kind_of(_owner_before(text, match.start()), kinds)
        yield match.group(1), kind if kind is not None and kind[0] == "element" else None


def _owner_before(text: str, end: int) -> str:
    """The simple expression that ends at `end` (what `.field` after it is read on): names,
    dots and bracketed indexes, read backwards."""
    pos = end
    while pos > 0:
        char = text[pos - 1]
        if char.isalnum() or char in "_.":
            pos -= 1
        elif char == "]":
            opening = text.rfind("[", 0, pos - 1)
            if opening < 0 or any(c in text[opening + 1:pos - 1] for c in "[]\n"):
                return ""
            pos = opening
        else:
            break
    return text[pos:end]
