"""Hand the embedded engine only the input fields the loaded policies name.

regopy's cost grows with what it is given: handing over the input is linear in its size, and a
field lookup scans an object's keys in order (a field at the end of a 40-key element costs ~6×
one at the front). So each element keeps only the fields some policy mentions — by name after a
`.` or as a quoted string — in the order of how often the policies mention them. Source spans,
which only Python reads, never reach the engine. A policy that walks an element's keys
dynamically would not see the dropped fields; the guide on writing rules says so."""
from __future__ import annotations

import re
from collections import Counter
from typing import Any, Iterable, Mapping

_NAMED = re.compile(r"\.([a-z_][a-z0-9_]*)|\"([a-z_][a-z0-9_]*)\"")


def field_ranking(sources: Iterable[str]) -> dict[str, int]:
    """Every field name the policies mention, ranked most-mentioned first (0 is the most)."""
    counts: Counter[str] = Counter()
    for text in sources:
        for dotted, quoted in _NAMED.findall(text):
            counts[dotted or quoted] += 1
    return {name: rank for rank, (name, _) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))}


class Slimmer:
    """Reduces a compiled input document to the fields in a ranking, most-used first."""

    def __init__(self, ranking: Mapping[str, int]) -> None:
        self.ranking = ranking
        self._orders: dict[tuple[str, ...], tuple[str, ...]] = {}

    def _order(self, keys: tuple[str, ...]) -> tuple[str, ...]:
        order = self._orders.get(keys)
        if order is None:
            kept = [k for k in keys if k in self.ranking]
            order = self._orders[keys] = tuple(sorted(kept, key=self.ranking.__getitem__))
        return order

    def element(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self.element(value[k]) for k in self._order(tuple(value))}
        if isinstance(value, list) and value and isinstance(value[0], dict):
            return [self.element(v) for v in value]
        return value

    def document(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The document the engine needs: top-level collections kept whole, elements slimmed."""
        return {key: self.element(value) for key, value in doc.items()}
