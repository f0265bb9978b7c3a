"""Policy-set conflicts that the engines would not report cleanly, checked before anything runs.

- A function name defined with different arities anywhere in the policy set, even in different
  packages: the embedded engine (rego-cpp) crashes the whole process on it instead of reporting
  an error, so a custom rule's helper could take the engine down.
- A custom module in a package of the built-in policies (`amisec.lib`, `amisec.rules.<family>`):
  Rego merges definitions across files of one package, so a custom helper could silently change
  what a built-in rule decides.

Both are PolicyErrors (exit code 3) naming the two files involved.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

from amisec.engine.errors import PolicyError

from .metadata import read_blocks

# A function head starts a line at nesting depth 0: `name(args) if`, `name(args) := …`, `default name(_) := …`.
_HEAD = re.compile(r"^(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_NOT_HEADS = {"package", "import", "else", "not", "some", "every", "default"}
_OPEN, _CLOSE = "([{", ")]}"


class _Module(Protocol):
    """What the conflict checks need of a policy module (PolicyFile satisfies it)."""

    path: str
    source: str
    builtin: bool


@dataclass(frozen=True)
class FunctionHead:
    """One definition of a function: its name, number of arguments and where it is."""

    name: str
    arity: int
    path: str
    line: int


def blank_comments_and_strings(source: str) -> str:
    """The source with comments and string contents replaced by spaces (lines and offsets kept)."""
    out, i, n = [], 0, len(source)
    while i < n:
        c = source[i]
        if c == "#":
            end = source.find("\n", i)
            end = n if end < 0 else end
        elif c in "\"`":
            end = i + 1
            while end < n and source[end] != c and not (c == '"' and source[end] == "\n"):
                end += 2 if c == '"' and source[end] == "\\" else 1
            end = min(end + 1, n)
        else:
            out.append(c)
            i += 1
            continue
        out.append("".join(ch if ch == "\n" else " " for ch in source[i:end]))
        i = end
    return "".join(out)


def _arity(text: str, start: int) -> int:
    """Arguments of the call whose `(` is at `start`: commas at its own nesting level, plus one."""
    depth, commas, empty = 0, 0, True
    for ch in text[start:]:
        if ch in _OPEN:
            depth += 1
            if depth == 1:
                continue
        elif ch in _CLOSE:
            depth -= 1
            if depth == 0:
                break
        elif ch == "," and depth == 1:
            commas += 1
        if not ch.isspace():
            empty = False
    return 0 if empty else commas + 1


def function_heads(source: str, path: str) -> list[FunctionHead]:
    """Every function definition of a module, in source order."""
    text = blank_comments_and_strings(source)
    heads, depth, offset = [], 0, 0
    for number, line in enumerate(text.split("\n"), start=1):
        match = _HEAD.match(line) if depth == 0 else None
        if match and match.group(1) not in _NOT_HEADS:
            heads.append(FunctionHead(match.group(1), _arity(text, offset + match.end() - 1), path, number))
        depth = max(0, depth + sum(line.count(c) for c in _OPEN) - sum(line.count(c) for c in _CLOSE))
        offset += len(line) + 1
    return heads


def check_arities(modules: Iterable[_Module]) -> None:
    """Raise PolicyError when one function name is defined with two different arities."""
    first: dict[str, FunctionHead] = {}
    for module in modules:
        for head in function_heads(module.source, module.path):
            seen = first.setdefault(head.name, head)
            if seen.arity != head.arity:
                raise PolicyError(
                    f"{head.path}:{head.line}",
                    f"function {head.name} takes {head.arity} argument(s) here but {seen.arity} at "
                    f"{seen.path}:{seen.line}; the embedded engine cannot evaluate one name with two arities, "
                    "even in different packages: rename one of them",
                )


def check_packages(modules: Sequence[_Module]) -> None:
    """Raise PolicyError when a custom module uses a package of the built-in policies."""
    builtin: dict[str, str] = {}
    for module in modules:
        if module.builtin:
            package = read_blocks(module.source, module.path)[0]
            if package:
                builtin.setdefault(package, module.path)
    for module in modules:
        package = None if module.builtin else read_blocks(module.source, module.path)[0]
        if package in builtin:
            raise PolicyError(
                module.path,
                f"package {package} belongs to the built-in policies ({builtin[package]}); a custom policy "
                "would merge into it and could change built-in rules: use a package of your own, "
                "e.g. amisec.rules.<organisation>",
            )


def check_conflicts(modules: Sequence[_Module]) -> None:
    """Every conflict check over the whole policy set (built-in and custom modules)."""
    check_packages(modules)
    check_arities(modules)
