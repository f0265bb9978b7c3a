"""Per rule package, a generated rule `__results` that names only the package's public rules.

Querying a whole package makes rego-cpp evaluate and serialise every rule in it, helpers (`_x`)
included, and helpers are often the largest values (every networked meter, every dependant of a
head end): at 10k elements the packages evaluate in 1.5 s through `__results` against 2.6 s whole.
`__results["r"] := r` is a partial object, so a rule that is undefined stays absent, as it would
be from the whole package.

The public rules are found as the words that begin a line outside every bracket, comment and
string; functions are not values and are left out. Should a word be misread (a name a rule's
body binds, say), the generated module does not compile and the engine queries whole packages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from . import PolicyModule

RESULTS = "__results"
_IDENTIFIER = re.compile(r"(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()")
_IMPORT = re.compile(r"import\s+[\w.\[\]\"]+?(?:\s+as\s+(\w+))?\s*$")
_KEYWORDS = frozenset({"package", "import", "default", "else", "some", "every", "not", "with", "as",
                       "if", "contains", "in", "true", "false", "null", "input", "data"})
_OPEN, _CLOSE = "{[(", "}])"
# what can hide a bracket or a line break: comments, strings, raw strings; and those themselves
_TOKEN = re.compile(r'#[^\n]*|"(?:\\.|[^"\\\n])*"?|`[^`]*`?|[{\[(]|[}\])]|\n')


@dataclass(frozen=True)
class GeneratedModule:
    """A Rego module amisec writes itself: where it is said to come from and its text."""

    path: str
    source: str


def public_rules(source: str) -> list[str]:
    """The names of the rules a module defines that are neither helpers nor functions: the words
    that begin a line outside every bracket, comment and string, less keywords and the names
    imports bind."""
    heads: dict[str, None] = {}
    imported = set()
    for line in _top_level_lines(source):
        if (bound := _IMPORT.match(line)) is not None:
            imported.add(bound.group(1) or line.rstrip().rsplit(".", 1)[-1])
        elif (head := _IDENTIFIER.match(line)) is not None and not head.group(1).startswith("_"):
            heads.setdefault(head.group(1))
    return [name for name in heads if name not in _KEYWORDS and name not in imported]


def _top_level_lines(source: str) -> list[str]:
    """The lines that begin outside every bracket, comment and string, without their indentation."""
    starts, depth = [0], 0
    for token in _TOKEN.finditer(source):
        text = token.group()
        if text == "\n":
            if depth == 0:
                starts.append(token.end())
        elif text in _OPEN:
            depth += 1
        elif text in _CLOSE:
            depth = max(0, depth - 1)
    lines = (source[start:_line_end(source, start)].strip() for start in starts)
    return [line for line in lines if line]


def _line_end(source: str, start: int) -> int:
    end = source.find("\n", start)
    return len(source) if end < 0 else end


def results_module(package: str, modules: Iterable[PolicyModule]) -> GeneratedModule | None:
    """The `__results` rule of `package`, over the public rules of its `modules`; None when it has
    none (a package of helpers only, whose query is then the whole package's)."""
    names = dict.fromkeys(name for module in modules for name in public_rules(module.source))
    if not names:
        return None
    lines = "".join(f'{RESULTS}["{name}"] := {name}\n' for name in names)
    return GeneratedModule(f"<amisec: {package}.{RESULTS}>", f"package {package}\n\n{lines}")
