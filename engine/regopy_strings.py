"""Carry any string through regopy unharmed.

regopy 1.5.2 does not escape the strings of its output: a `"`, `\\` or control character taken
from the input breaks the output JSON or silently changes it. Before evaluation each such
character in an input string is swapped for a private-use character (`"` -> U+E022, `\\` ->
U+E05C, U+000A -> U+E00A, …: one character for one, so lengths and every comparison a rule makes
on ids and vocabulary words are unchanged); after evaluation the output strings are swapped back.
"""
from __future__ import annotations

import json
from typing import Any

_BASE = 0xE000
_UNSAFE = tuple(chr(c) for c in range(0x20)) + ('"', "\\", "\x7f")
_PROTECT = str.maketrans({c: chr(_BASE + ord(c)) for c in _UNSAFE})
_RESTORE = str.maketrans({chr(_BASE + ord(c)): c for c in _UNSAFE})


def needs_protection(doc: Any) -> bool:
    """Whether any string in `doc` holds a character regopy would not escape.

    json.dumps escapes exactly those characters (ensure_ascii off keeps the rest as is), and does
    so at C speed, so a backslash in the dump is the cheap test.
    """
    return "\\" in json.dumps(doc, ensure_ascii=False)


def _map(value: Any, table: dict[int, str]) -> Any:
    if isinstance(value, str):
        return value.translate(table)
    if isinstance(value, dict):
        return {_map(k, table): _map(v, table) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_map(v, table) for v in value]
    return value


def protect(doc: Any) -> Any:
    """A copy of `doc` whose strings regopy can carry; the original is not changed."""
    return _map(doc, _PROTECT)


def restore(value: Any) -> Any:
    """The evaluation output with the swapped characters put back."""
    return _map(value, _RESTORE)
