"""Validate a large document against a cerberus schema by columns: the same verdict, a fraction
of the time.

cerberus walks a document element by element and builds a child validator for every nested
mapping, ~0.7 ms per compiled device — seconds for a utility-sized deployment. But with the rules
the input schema uses (type, required, nullable, allowed, min, regex, and schema for dicts and
lists) a document is valid exactly when

- every mapping has the keys its schema asks for and no others (depends on its key set only),
- every value passes its own rule on its own (no rule looks at another field).

So the document is taken apart into columns — all values governed by the same rule — and
cerberus is asked once per distinct key set and once per distinct value of each column. Values
are told apart by type as well as by value (`1`, `1.0` and `True` are equal in Python, not to a
schema). Under a rule of type, min and nullable alone, a number passes or fails by its type and
by whether it is below the minimum, so only the smallest number of each type is asked about (the
positions and counts that are most of a large document's values); under a regex rule without
`allowed`, every string the pattern matches passes alike, so one of them stands for all (every
element's id). A schema using any other rule is validated the ordinary way.
"""
from __future__ import annotations

import itertools
import re
from typing import Any, Callable, Hashable, Sequence

from cerberus import Validator
from cerberus.schema import UnvalidatedSchema

_SUPPORTED = frozenset({"type", "required", "nullable", "allowed", "min", "regex", "schema"})
# Rules under which a number's verdict depends on its type and on whether it is below `min` only.
_ORDERED = frozenset({"type", "required", "nullable", "min"})
_NUMBERS = (int, float, bool)
_SCALARS = frozenset({str, int, float, bool, type(None)})


def supported(schema: dict[str, Any]) -> bool:
    """Whether every rule in `schema` (a mapping of field rules) is one column validation handles."""
    return all(_rule_supported(rule) for rule in schema.values())


def _rule_supported(rule: dict[str, Any]) -> bool:
    if not set(rule) <= _SUPPORTED:
        return False
    inner = rule.get("schema")
    if inner is None:
        return True
    if rule.get("type") == "dict":
        return supported(inner)
    return rule.get("type") == "list" and _rule_supported(inner)


def _distinct_key(value: Any) -> Hashable:
    kind = type(value)
    if kind is list or kind is tuple:
        return kind, tuple(_distinct_key(v) for v in value)
    if kind is dict:
        return kind, tuple((k, _distinct_key(v)) for k, v in value.items())
    return kind, value


_MATCHING = object()

# Rows taken apart into columns at a time: their values, and each column's distinct ones, stay
# within the processor's cache (a whole 100k-element collection's values were ~30 MB, walked once
# per column).
ROWS_AT_ONCE = 2048


def _matching_key(pattern: str) -> Callable[[Any], Hashable]:
    """A `_distinct_key` under which every string the pattern matches, as cerberus matches it
    (from the start, anchored at the end), is one value."""
    match = re.compile(pattern if pattern.endswith("$") else pattern + "$").match

    def key(value: Any) -> Hashable:
        return _MATCHING if type(value) is str and match(value) else _distinct_key(value)

    return key


class _Columns:
    """Every mapping's distinct key sets and every leaf rule's distinct values."""

    def __init__(self) -> None:
        self.key_sets: list[tuple[dict[str, Any], dict[tuple[str, ...], dict[str, Any]]]] = []
        # by the rule's text, so columns with the same rule (every span's lines, every id) share
        # their distinct values
        self.leaves: dict[str, tuple[dict[str, Any], dict[Hashable, Any]]] = {}

    def mapping(self, schema: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        """Dicts governed by the field rules in `schema`, taken `ROWS_AT_ONCE` at a time."""
        for start in range(0, len(rows), ROWS_AT_ONCE):
            self._rows(schema, rows[start:start + ROWS_AT_ONCE])

    def _rows(self, schema: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        key_sets = {tuple(row): row for row in rows}
        self.key_sets.append((schema, key_sets))
        if len(key_sets) == 1:  # the common case: every row has the same keys in the same order
            (keys,) = key_sets
            # every value in one row-major pass, then each column a stride of it: transposing
            # with zip(*rows) visits every row once per column (10x slower per row at 100k elements)
            flat = list(itertools.chain.from_iterable(map(dict.values, rows)))
            columns = {key: flat[k::len(keys)] for k, key in enumerate(keys)}
            for field, rule in schema.items():
                self.governed(rule, columns.get(field, ()))
            return
        for field, rule in schema.items():
            self.governed(rule, [row[field] for row in rows if field in row])

    def governed(self, rule: dict[str, Any], values: Sequence[Any]) -> None:
        """Values governed by one field rule."""
        inner = rule.get("schema")
        if inner is None:
            if set(rule) <= _ORDERED:
                self._smallest_numbers(rule, values)
            elif "regex" in rule and "allowed" not in rule:
                self._leaf(rule, values, _matching_key(rule["regex"]))
            else:
                self._leaf(rule, values, _distinct_key)
            return
        # whether a dict or list passes its own type rule depends on nothing but its type
        self._leaf(rule, values, type)
        if rule["type"] == "dict":
            self.mapping(inner, [v for v in values if type(v) is dict])
        else:
            self.governed(inner, [x for v in values if type(v) is list for x in v])

    def _leaf(self, rule: dict[str, Any], values: Sequence[Any], key: Callable[[Any], Hashable]) -> None:
        distinct = self._distinct(rule)
        if len(values) > 1 and len(kinds := set(map(type, values))) == 1 and kinds <= _SCALARS:
            values = set(values)  # of one type, equal values have equal keys (1 and True do not)
        for value in values:
            distinct.setdefault(key(value), value)

    def _smallest_numbers(self, rule: dict[str, Any], values: Sequence[Any]) -> None:
        """Of each type of number, the smallest (a NaN, which compares with nothing, on its own);
        other values as `_leaf` keeps them."""
        distinct = self._distinct(rule)
        kinds = set(map(type, values))
        for kind in kinds:
            of_kind = values if len(kinds) == 1 else [v for v in values if type(v) is kind]
            if kind in _NUMBERS:
                ordered = [v for v in of_kind if v == v] if kind is float else of_kind
                if ordered:
                    kept = distinct.get(kind)
                    distinct[kind] = min(ordered) if kept is None else min(kept, min(ordered))
                if len(ordered) == len(of_kind):
                    continue
                of_kind = [v for v in of_kind if v != v]
            for value in set(of_kind) if kind in _SCALARS else of_kind:
                distinct.setdefault(_distinct_key(value), value)

    def _distinct(self, rule: dict[str, Any]) -> dict[Hashable, Any]:
        own = {k: v for k, v in rule.items() if k not in ("schema", "required")}
        return self.leaves.setdefault(repr(sorted(own.items())), (own, {}))[1]


def valid(schema: dict[str, Any], doc: Any) -> bool:
    """Whether cerberus (`allow_unknown=False`, no normalisation) would accept `doc` against
    `schema`; the schema must be `supported`."""
    if type(doc) is not dict:
        return False
    columns = _Columns()
    columns.mapping(schema, [doc])
    for fields, rows in columns.key_sets:
        keys_only = Validator(UnvalidatedSchema({f: {"required": bool(rule.get("required")), "nullable": True}
                                                 for f, rule in fields.items()}), allow_unknown=False)
        if not all(keys_only.validate(row, normalize=False) for row in rows.values()):
            return False
    for rule, distinct in columns.leaves.values():
        column = Validator(UnvalidatedSchema({"v": {"type": "list", "schema": rule}}))
        if not column.validate({"v": list(distinct.values())}, normalize=False):
            return False
    return True
