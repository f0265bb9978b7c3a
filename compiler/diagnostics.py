"""Positioned diagnostics: the one error type of the compiler, rendered like a compiler's."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Iterable, NamedTuple, Sequence


class Span(NamedTuple):
    """A source range: 1-based line and column, end exclusive (as Lark and SARIF count)."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem with the input, at a position, with an optional hint on how to fix it."""

    span: Span
    message: str
    hint: str | None = None
    related: tuple[Span, ...] = ()


@dataclass
class InputError(Exception):
    """The input is wrong: one or more diagnostics, all reported together (exit code 2)."""

    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return render_all(self.diagnostics, self.sources)


def suggest(word: str, allowed: Iterable[str]) -> str | None:
    """The closest allowed word to a misspelt one, if any is close."""
    matches = difflib.get_close_matches(word, list(allowed), n=1, cutoff=0.6)
    return matches[0] if matches else None


def allowed_words_hint(word: str, allowed: Sequence[str], what: str = "allowed") -> str:
    """'did you mean X? allowed: a, b, c' — the hint for an unknown word of a closed vocabulary."""
    close = suggest(word, allowed)
    listing = f"{what}: {', '.join(allowed)}"
    return f"did you mean '{close}'? {listing}" if close else listing


def _source_line(sources: dict[str, str], span: Span) -> str | None:
    text = sources.get(span.file)
    if text is None:
        return None
    # Lines end at "\n" only, as the parser counts them (str.splitlines also breaks at form
    # feeds and Unicode separators, which may sit inside a string).
    lines = text.split("\n")
    if 1 <= span.line <= len(lines):
        return lines[span.line - 1].rstrip("\r")
    return None


EXCERPT = 160  # characters of a source line shown; a longer line is shown around the column


def _excerpt(line: str, span: Span) -> list[str]:
    """The source line (or a window of it around the column) and a caret underline. Tabs count
    as one column, as they do in positions; unprintable characters are shown as '?'."""
    text = "".join(c if c.isprintable() else "?" for c in line.expandtabs(1))
    start = 0 if span.column <= EXCERPT - 20 else span.column - 1 - 40
    lead = "…" if start else ""
    shown = lead + text[start:start + EXCERPT] + ("…" if start + EXCERPT < len(text) else "")
    offset = span.column - 1 - start + len(lead)
    room = max(1, len(shown) - offset)
    width = span.end_column - span.column if span.end_line == span.line else room
    gutter = f"{span.line:>5} | "
    return [f"{gutter}{shown}", " " * (len(gutter) - 2) + "| " + " " * offset + "^" * max(1, min(width, room))]


def render(diagnostic: Diagnostic, sources: dict[str, str]) -> str:
    """`file:line:col: error: message`, the source line, a caret underline and the hint."""
    span = diagnostic.span
    out = [f"{span}: error: {diagnostic.message}"]
    line = _source_line(sources, span)
    if line is not None:
        out.extend(_excerpt(line, span))
    for other in diagnostic.related:
        out.append(f"  note: see {other}")
    if diagnostic.hint:
        out.append(f"  hint: {diagnostic.hint}")
    return "\n".join(out)


def render_all(diagnostics: Sequence[Diagnostic], sources: dict[str, str]) -> str:
    """Every diagnostic in source order, followed by a count."""
    ordered = sorted(diagnostics, key=lambda d: (d.span.file, d.span.line, d.span.column))
    body = "\n".join(render(d, sources) for d in ordered)
    count = len(ordered)
    return f"{body}\n{count} error{'s' if count != 1 else ''}"
