"""Per rule package, a generated rule `__results` that names only the package's public rules.

Querying a whole package makes rego-cpp evaluate and serialise every rule in it, helpers (`_x`)
included, and helpers are often the largest values (every networked meter, every dependant of a
head end): at 10k elements the packages evaluate in 1.5 s through `__results` against 2.6 s whole.
`__results["r"] := r` is a partial object, so a rule that is undefined stays absent, as it would
be from the whole package.

The public rules are found as rule heads at the start of a line, where `opa fmt` puts them and
where a METADATA block must be followed by its rule; functions are not values and are left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from . import PolicyModule

RESULTS = "__results"
_HEAD = re.compile(r"^(?:default\s+)?([A-Za-z][A-Za-z0-9_]*)\b(?!\s*\()", re.M)
_KEYWORDS = frozenset({"package", "import", "default", "else", "some", "every", "not", "with", "as",
                       "if", "contains", "in", "true", "false", "null"})


@dataclass(frozen=True)
class GeneratedModule:
    """A Rego module amisec writes itself: where it is said to come from and its text."""

    path: str
    source: str


def public_rules(source: str) -> list[str]:
    """The names of the rules a module defines that are neither helpers nor functions."""
    return list(dict.fromkeys(m.group(1) for m in _HEAD.finditer(source) if m.group(1) not in _KEYWORDS))


def results_module(package: str, modules: Iterable[PolicyModule]) -> GeneratedModule | None:
    """The `__results` rule of `package`, over the public rules of its `modules`; None when it has
    none (a package of helpers only, whose query is then the whole package's)."""
    names = dict.fromkeys(name for module in modules for name in public_rules(module.source))
    if not names:
        return None
    lines = "".join(f'{RESULTS}["{name}"] := {name}\n' for name in names)
    return GeneratedModule(f"<amisec: {package}.{RESULTS}>", f"package {package}\n\n{lines}")
