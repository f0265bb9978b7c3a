"""Hand the embedded engine only the input fields the loaded policies name.

regopy's cost grows with what it is given: handing over the input is linear in its size, and a
field lookup scans an object's keys in order (a field at the end of a 40-key element costs ~6×
one at the front). So each element keeps only the fields some policy mentions — by name after a
`.` or as a quoted string — those tested on every element a rule walks first, and a field read
only on elements of some collections only in those (`owners`). Source spans,
which only Python reads, never reach the engine. A policy that walks an element's keys
dynamically would not see the dropped fields; the guide on writing rules says so."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Mapping

from .owners import field_owners
from .rego_text import blank_strings, closing, definitions

_NAMED = re.compile(r"\.([a-z_][a-z0-9_]*)|\"([a-z_][a-z0-9_]*)\"")
# A definition that walks elements one by one: a comprehension, `some` or `every`.
_ITERATES = re.compile(r"\b(?:some|every)\b")
_CALL = re.compile(r"\b([a-z_][a-z0-9_]*)\(")
# Calls that build a finding's text: evaluated only for the elements that fail.
_MESSAGE_CALL = re.compile(r"\b(?:sprintf|concat|format_int|lib\.violation)\(")
_COMMENT_LINE = re.compile(r"^[ \t]*#.*$", re.M)


def field_ranking(sources: Iterable[str]) -> dict[str, int]:
    """Every field name the policies mention, ranked (0 first): first the fields read on every
    element a definition walks — in the tests of a definition that iterates (`some`, `every`, a
    comprehension) or of a helper it calls, leaving out the calls that build messages, which run
    only for failing elements — by how many such definitions read them; then the rest by how
    often they are mentioned. A field is looked up by scanning an element's keys (~1.3 µs a key
    in the embedded engine), so the reads paid on every element should find theirs first."""
    mentions: Counter[str] = Counter()
    hot: Counter[str] = Counter()
    for source in sources:
        text = _COMMENT_LINE.sub("", source)  # METADATA and notes name fields they do not read
        mentions.update(_fields(text))
        for body in _per_element_tests(text):
            hot.update(set(_fields(body)))
    ranked = sorted(mentions, key=lambda name: (-hot[name], -mentions[name], name))
    return {name: rank for rank, name in enumerate(ranked)}


def _fields(text: str) -> list[str]:
    return [dotted or quoted for dotted, quoted in _NAMED.findall(text)]


def _without_messages(text: str) -> str:
    """`text` without the calls that build messages (parentheses inside strings ignored)."""
    masked = blank_strings(text)
    kept, pos = [], 0
    for call in _MESSAGE_CALL.finditer(masked):
        if call.start() < pos:
            continue  # inside a call already left out
        kept.append(text[pos:call.start()])
        pos = closing(masked, call.end() - 1) + 1
    kept.append(text[pos:])
    return "".join(kept)


def _per_element_tests(text: str) -> list[str]:
    """The bodies, without their message-building calls, of a module's definitions that iterate
    and of the helpers (same module, by name) they call, directly or not."""
    bodies: dict[str, list[str]] = {}
    for name, body in definitions(text):
        bodies.setdefault(name, []).append(_without_messages(body))
    todo = [name for name, parts in bodies.items() if any(_ITERATES.search(part) for part in parts)]
    seen = set(todo)
    while todo:
        for part in bodies[todo.pop()]:
            for called in _CALL.findall(part):
                if called in bodies and called not in seen:
                    seen.add(called)
                    todo.append(called)
    return [part for name in seen for part in bodies[name]]


class Slimmer:
    """Reduces a compiled input document to the fields in a ranking, most-used first; a field in
    `scoped` (name -> top-level keys) is kept only under those keys (`owners.field_owners`)."""

    # The top-level value handed over as it is (its keys are vocabulary words, not fields).
    WHOLE = "index"

    def __init__(self, ranking: Mapping[str, int], scoped: Mapping[str, frozenset[str]] | None = None) -> None:
        self.ranking = dict(ranking)
        self.scoped = dict(scoped or {})
        self._rankings: dict[str, dict[str, int]] = {}
        self._orders: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    def ranking_of(self, key: str) -> dict[str, int]:
        """The ranking of the fields kept at every depth under the top-level `key`: a plain dict,
        which the C walk looks fields up in directly."""
        ranking = self._rankings.get(key)
        if ranking is None:
            ranking = self._rankings[key] = {name: rank for name, rank in self.ranking.items()
                                             if name not in self.scoped or key in self.scoped[name]}
        return ranking

    def keeps(self, key: str, field: str) -> bool:
        """Whether `field` reaches the engine under the top-level `key` (for `WHOLE`: the map)."""
        return field in (self.ranking if key == self.WHOLE else self.ranking_of(key))

    def _order(self, key: str, keys: tuple[str, ...]) -> tuple[str, ...]:
        order = self._orders.get((key, keys))
        if order is None:
            ranking = self.ranking_of(key)
            kept = [k for k in keys if k in ranking]
            order = self._orders[key, keys] = tuple(sorted(kept, key=ranking.__getitem__))
        return order

    def _element(self, key: str, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self._element(key, value[k]) for k in self._order(key, tuple(value))}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return [self._element(key, v) for v in value]
        return value

    def top_level(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The document's top level as `document` makes it, its collections not yet slimmed:
        every collection, and of the `index` the maps the policies name, whole (their keys are
        vocabulary words a policy may look up from a value it holds)."""
        out = {key: value for key, value in doc.items() if key != self.WHOLE}
        if isinstance(doc.get(self.WHOLE), dict):
            out[self.WHOLE] = {name: positions for name, positions in doc[self.WHOLE].items() if name in self.ranking}
        return out

    def rankings(self, top: Mapping[str, Any]) -> dict[str, dict[str, int]]:
        """`ranking_of` each key of a `top_level` but `WHOLE`, for the C walk."""
        return {key: self.ranking_of(key) for key in top if key != self.WHOLE}

    def document(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The document the engine needs: `top_level`, with every element slimmed."""
        return {key: value if key == self.WHOLE else self._element(key, value)
                for key, value in self.top_level(doc).items()}


def slimmer_for(sources: Iterable[str]) -> Slimmer:
    """The slimmer for policies with these sources: the fields they name, each kept where they
    read it."""
    sources = list(sources)
    return Slimmer(field_ranking(sources), field_owners(sources).scoped)
