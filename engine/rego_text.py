"""Rego source read as text, for the slimmer and the field analysis: strings, definitions and
brackets. Neither needs a parse tree, only where definitions start and what is code."""
from __future__ import annotations

import re
from typing import Callable

STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`]*`')
# A top-level definition starts at a line that begins with a name (rule or function head).
_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\b", re.M)
_NOT_DEFINITIONS = frozenset({"package", "import", "default"})
_DEPTH = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


def blank_strings(text: str, seen: Callable[[str], None] | None = None) -> str:
    """`text` with every string literal's inside blanked (same length, so offsets hold); `seen`
    is given each literal first."""
    def blank(match: re.Match[str]) -> str:
        if seen is not None:
            seen(match.group())
        return match.group()[0] + " " * (len(match.group()) - 2) + match.group()[-1]
    return STRING.sub(blank, text)


def definitions(text: str) -> list[tuple[str, str]]:
    """Each top-level definition of a module, in order: its name and its text (to the next)."""
    heads = [m for m in _HEAD.finditer(text) if m.group(1) not in _NOT_DEFINITIONS]
    ends = [h.start() for h in heads[1:]] + [len(text)]
    return [(head.group(1), text[head.start():end]) for head, end in zip(heads, ends)]


def closing(text: str, opening: int) -> int:
    """Where the bracket that matches the one at `opening` is (`len(text)` if none does), in text
    whose strings are blanked."""
    depth = 0
    for pos in range(opening, len(text)):
        depth += _DEPTH.get(text[pos], 0)
        if depth == 0:
            return pos
    return len(text)


def arguments(text: str) -> list[str]:
    """The comma-separated parts of an argument list (`text` between its brackets), nested
    brackets kept whole; blank parts left out."""
    parts, depth, start = [], 0, 0
    for pos, char in enumerate(text):
        depth += _DEPTH.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:pos])
            start = pos + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]
