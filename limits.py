"""Size limits on deployment files, and the command-line options that set them.

A hostile or broken file (a 50 MB single line, a string of a million characters, millions of
statements) fails fast with a positioned error instead of exhausting time or memory; the checks
themselves live in `compiler.source`, before the parser sees the text. The defaults are far above
any real deployment; `--max-bytes`, `--max-elements`, `--max-line-length` and
`--max-string-length` raise them.

There is no nesting limit: the language has one level of `{ }` (a `{` inside a block is a syntax
error) and its parser is not recursive, so no input drives it deep.

The limits in force are a context variable: a command sets them once with `applied(...)` and every
file it reads, whichever library path reads it (a file, a git revision, a test case), is checked
against them. This module imports nothing heavy: the command line loads it at start-up.
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
from dataclasses import dataclass, fields
from typing import Any, Callable, Iterator


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
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{f.name} must be a positive whole number, not {value!r}")


DEFAULT = Limits()
FLAGS = {
    "max_bytes": "--max-bytes",
    "max_elements": "--max-elements",
    "max_line_length": "--max-line-length",
    "max_string_length": "--max-string-length",
}
_HELP = {
    "max_bytes": "Largest deployment file accepted, in bytes.",
    "max_elements": "Most statements (parties, devices, links, …) in one file.",
    "max_line_length": "Longest line accepted, in characters.",
    "max_string_length": "Longest quoted string accepted, in characters.",
}

_current: contextvars.ContextVar[Limits] = contextvars.ContextVar("amisec_limits", default=DEFAULT)


def current() -> Limits:
    """The limits in force (the defaults unless a caller applied others)."""
    return _current.get()


@contextlib.contextmanager
def applied(limits: Limits) -> Iterator[Limits]:
    """Check every deployment file read inside the block against `limits`."""
    token = _current.set(limits)
    try:
        yield limits
    finally:
        _current.reset(token)


def limit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--max-bytes`, `--max-elements`, `--max-line-length` and `--max-string-length` to a
    command; it runs with the limits they give in force and receives none of them."""
    import click

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with applied(Limits(**{name: kwargs.pop(name) for name in FLAGS})):
            return command(*args, **kwargs)

    wrapper.__click_params__ = list(getattr(command, "__click_params__", []))  # type: ignore[attr-defined]
    for name in reversed(tuple(FLAGS)):
        option = click.option(FLAGS[name], name, type=click.IntRange(min=1), default=getattr(DEFAULT, name),
                              show_default=True, metavar="N", help=_HELP[name])
        wrapper = option(wrapper)
    return wrapper
