"""Size limits on deployment files, checked before the parser sees the text.

A hostile or broken file (a 50 MB single line, a string of a million characters, millions of
statements) fails fast with a positioned error instead of exhausting time or memory. The defaults
are far above any real deployment; the command line raises them with `--max-bytes`,
`--max-elements`, `--max-line-length` and `--max-string-length`.

There is no nesting limit: the language has one level of `{ }` (a `{` inside a block is a syntax
error) and its parser is not recursive, so no input drives it deep.

The limits in force are a context variable: the command line sets them once with `applied(...)`
and every file the command reads, whichever library path reads it, is checked against them.
"""
from __future__ import annotations

import contextlib
import contextvars
import re
from dataclasses import dataclass
from typing import Iterator

from .diagnostics import Diagnostic, InputError, Span


@dataclass(frozen=True)
class Limits:
    """The largest deployment file accepted; every field is a positive count."""

    max_bytes: int = 64 * 1024 * 1024
    """Size of a file in bytes (UTF-8)."""
    max_elements: int = 1_000_000
    """Statements in a file: the deployment, parties, agreements, domains, devices, links, flows,
    delegations and waivers (a fleet `x 48_000` is one element)."""
    max_line_length: int = 10_000
    """Characters on one line."""
    max_string_length: int = 4_096
    """Characters between the quotes of one string."""

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, not {value!r}")


DEFAULT = Limits()
FLAGS = {
    "max_bytes": "--max-bytes",
    "max_elements": "--max-elements",
    "max_line_length": "--max-line-length",
    "max_string_length": "--max-string-length",
}

_current: contextvars.ContextVar[Limits] = contextvars.ContextVar("amisec_limits", default=DEFAULT)

_KEYWORDS = "deployment|party|agreement|domain|device|link|flow|delegation|waiver"
# Strings and comments are matched whole so that a ';' or a keyword inside them is not counted.
_STATEMENTS = re.compile(rf'"(?:[^"\\\n]|\\.)*"|#[^\n]*|(?:^|;)[ \t\f]*(?:{_KEYWORDS})(?=[ \t\f"])', re.M)
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*')


def current() -> Limits:
    """The limits in force (the defaults unless a caller applied others)."""
    return _current.get()


@contextlib.contextmanager
def applied(limits: Limits) -> Iterator[Limits]:
    """Check every file read inside the block against `limits`."""
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def _error(file: str, line: int, column: int, message: str, field: str) -> InputError:
    # No source excerpt: the offending line may be megabytes long.
    hint = f"raise the limit with {FLAGS[field]} if this file is intended"
    return InputError([Diagnostic(Span(file, line, column, line, column + 1), message, hint)])


def check_size(size: int, file: str, limits: Limits | None = None) -> None:
    """Raise InputError when a file of `size` bytes is over the size limit."""
    limit = (limits or current()).max_bytes
    if size > limit:
        raise _error(file, 1, 1, f"the file is {size:,} bytes; the limit is {limit:,} bytes", "max_bytes")


def check_text(text: str, file: str, limits: Limits | None = None) -> None:
    """Raise InputError at the first place where `text` is over a limit: size, line length,
    string length, then element count. Costs a few milliseconds for a file of 100,000 lines."""
    limits = limits or current()
    if len(text) * 4 > limits.max_bytes:  # only then can the UTF-8 size be over the limit
        check_size(len(text.encode("utf-8", "surrogatepass")), file, limits)
    if len(text) > min(limits.max_line_length, limits.max_string_length):
        _check_lines(text, file, limits)
    if text.count("\n") + text.count(";") + 1 > limits.max_elements:
        _check_elements(text, file, limits)


def _check_lines(text: str, file: str, limits: Limits) -> None:
    lengths = [len(line) for line in text.split("\n")]
    for index, length in enumerate(lengths):
        if length > limits.max_line_length:
            raise _error(file, index + 1, limits.max_line_length + 1,
                         f"line {index + 1} is {length:,} characters long; the limit is {limits.max_line_length:,}",
                         "max_line_length")
    start = 0
    for index, length in enumerate(lengths):
        if length > limits.max_string_length:  # strings do not span lines: only long lines hold long ones
            _check_strings(text[start:start + length], index + 1, file, limits)
        start += length + 1


def _check_strings(line_text: str, line: int, file: str, limits: Limits) -> None:
    for match in _STRINGS.finditer(line_text):
        if match.group().startswith("#"):
            return
        length = len(match.group()) - 2
        if length > limits.max_string_length:
            raise _error(file, line, match.start() + 1,
                         f"this string is {length:,} characters long; the limit is {limits.max_string_length:,}",
                         "max_string_length")


def _check_elements(text: str, file: str, limits: Limits) -> None:
    count = 0
    for match in _STATEMENTS.finditer(text):
        if match.group()[:1] in ('"', "#"):
            continue
        count += 1
        if count > limits.max_elements:
            at = match.start() + len(match.group()) - len(match.group().lstrip(";\n \t\f"))
            line = text.count("\n", 0, at) + 1
            column = at - (text.rfind("\n", 0, at) + 1) + 1
            raise _error(file, line, column, f"the file has more than {limits.max_elements:,} elements (statements)",
                         "max_elements")
