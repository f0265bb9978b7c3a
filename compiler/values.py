"""Parsers for property values: each turns the words written after a property name into a value,
or raises a positioned `Problem` that says what was expected."""
from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Callable, NamedTuple, Sequence

from lark import Token

from .diagnostics import Diagnostic, Span, allowed_words_hint
from .model import Control, Ref
from .vocab import DATA_CLASSES, SWITCH


class Problem(Exception):
    """A property value is wrong; carries the diagnostic to report."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def token_span(file: str, token: Token) -> Span:
    return Span(file, token.line, token.column, token.end_line, token.end_column)


class Written(NamedTuple):
    """What was written after a property name: comma-separated groups of words (a tuple: one is
    made per property, a frozen dataclass took three times as long)."""

    name: str
    file: str
    name_token: Token
    groups: tuple[tuple[Token, ...], ...]

    @property
    def span(self) -> Span:
        last = self.groups[-1][-1] if self.groups else self.name_token
        return Span(self.file, self.name_token.line, self.name_token.column, last.end_line, last.end_column)

    def span_of(self, token: Token) -> Span:
        return token_span(self.file, token)

    def fail(self, message: str, hint: str | None = None, token: Token | None = None) -> Problem:
        span = self.span_of(token) if token is not None else self.span
        return Problem(Diagnostic(span, message, hint))

    def single(self, what: str) -> Token:
        """The one word of a single-valued property."""
        if len(self.groups) != 1 or len(self.groups[0]) != 1:
            raise self.fail(f"'{self.name}' takes one {what}", f"write: {self.name} <{what}>")
        return self.groups[0][0]

    def items(self, what: str) -> tuple[Token, ...]:
        """The words of a comma-separated list property, one per group."""
        if not self.groups:
            raise self.fail(f"'{self.name}' needs at least one {what}")
        for group in self.groups:
            if len(group) != 1:
                raise self.fail(
                    f"'{self.name}' expects a comma-separated list of {plural(what)}",
                    f"separate the items with commas: {self.name} a, b",
                    token=group[1],
                )
        return tuple(group[0] for group in self.groups)


Parser = Callable[[Written], object]


def plural(what: str) -> str:
    """'data class' → 'data classes', 'party id' → 'party ids'."""
    return what + ("es" if what.endswith(("s", "x", "ch", "sh")) else "s")

_STRING_ESCAPE = re.compile(r"\\(.)")
_DURATION = re.compile(r"^([0-9][0-9_]*)(ms|s|m|h)$")
_RATE = re.compile(r"^([0-9][0-9_]*)(bps|kbps|mbps|gbps)$")
_INT = re.compile(r"^[0-9]+(_[0-9]+)*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
_RATE_UNITS = {"bps": 1, "kbps": 1_000, "mbps": 1_000_000, "gbps": 1_000_000_000}
MAX_INT = 2**53 - 1


def unquote(token: Token) -> str:
    return _STRING_ESCAPE.sub(r"\1", token[1:-1])


def word_of(vocab: Sequence[str], what: str) -> Parser:
    """One word from a closed vocabulary."""

    def parse(w: Written) -> str:
        tok = w.single(what)
        check_word(w, tok, vocab, what)
        return word(tok)

    return parse


def word(tok: Token) -> str:
    """A name or vocabulary word as one shared str however often it is written: a large input
    repeats each thousands of times, and every later stage (the schema check, the hand-over, joining
    results) reads equal strings faster, and holds less, when they are one object."""
    return sys.intern(str(tok))


def check_word(w: Written, tok: Token, vocab: Sequence[str], what: str) -> None:
    if tok.type != "NAME" or str(tok) not in vocab:
        raise w.fail(f"unknown {what} '{tok}'", allowed_words_hint(str(tok), vocab), token=tok)


def words_of(vocab: Sequence[str], what: str) -> Parser:
    """A comma-separated list of words from a closed vocabulary, duplicates removed."""

    def parse(w: Written) -> tuple[str, ...]:
        out: list[str] = []
        for tok in w.items(what):
            check_word(w, tok, vocab, what)
            if tok not in out:
                out.append(word(tok))
        return tuple(out)

    return parse


def data_classes(w: Written) -> tuple[tuple[str, ...], bool]:
    """`carries` / `data`: data classes, or `*` for all of them. Returns (classes, star)."""
    items = w.items("data class")
    if any(t.type == "STAR" for t in items):
        if len(items) > 1:
            raise w.fail("'*' already means every data class", "write either '*' or a list of data classes")
        return DATA_CLASSES, True
    return words_of(DATA_CLASSES, "data class")(w), False  # type: ignore[return-value]


def switch(w: Written) -> bool:
    tok = w.single("on|off")
    check_word(w, tok, SWITCH, "switch value")
    return str(tok) == "on"


def integer(w: Written) -> int:
    tok = w.single("whole number")
    return parse_int(w, tok)


def _whole(digits: str) -> int:
    """The value of a digit string (with `_` separators); one too long to be accepted counts as
    MAX_INT + 1, since Python refuses to convert more than 4300 digits."""
    digits = digits.replace("_", "").lstrip("0") or "0"
    return int(digits) if len(digits) <= len(str(MAX_INT)) else MAX_INT + 1


def _short(tok: Token) -> str:
    """A token as a message shows it: a huge number is cut to its first and last digits."""
    text = str(tok)
    return text if len(text) <= 40 else f"{text[:16]}…{text[-16:]} ({len(text):,} characters)"


def parse_int(w: Written, tok: Token) -> int:
    if tok.type != "NUMBER" or not _INT.match(tok):
        raise w.fail(f"'{tok}' is not a whole number", "write digits, optionally grouped with _: 48_000", token=tok)
    value = _whole(str(tok))
    if value > MAX_INT:
        raise w.fail(f"{_short(tok)} is too large", f"the largest number accepted is {MAX_INT}", token=tok)
    return value


def duration(w: Written) -> float:
    tok = w.single("duration")
    m = _DURATION.match(str(tok))
    if tok.type != "NUMBER" or not m:
        raise w.fail(f"'{tok}' is not a duration", "write a number with a unit: 500ms, 60s, 5m, 2h", token=tok)
    count = _whole(m.group(1))
    seconds = count * _DURATION_UNITS[m.group(2)]
    if count > MAX_INT or seconds > MAX_INT:
        raise w.fail(f"{_short(tok)} is too long", token=tok)
    return float(seconds) if isinstance(seconds, float) else seconds  # type: ignore[return-value]


def rate(w: Written) -> int:
    tok = w.single("rate")
    m = _RATE.match(str(tok))
    if tok.type != "NUMBER" or not m:
        raise w.fail(f"'{tok}' is not a rate", "write a number with a unit: 9600bps, 100kbps, 10mbps", token=tok)
    bps = _whole(m.group(1)) * _RATE_UNITS[m.group(2)]
    if bps > MAX_INT:
        raise w.fail(f"{_short(tok)} is too large", token=tok)
    return bps


def date(w: Written) -> str:
    tok = w.single("date")
    try:
        if tok.type != "NUMBER" or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", tok):
            raise ValueError
        return dt.date.fromisoformat(str(tok)).isoformat()
    except ValueError:
        raise w.fail(f"'{tok}' is not a date", "write a calendar date as YYYY-MM-DD: 2027-03-31", token=tok) from None


def string(w: Written) -> str:
    tok = w.single("quoted string")
    if tok.type != "STRING":
        raise w.fail(f"'{w.name}' takes a quoted string", f'write: {w.name} "{tok}"', token=tok)
    return unquote(tok)


def ref(what: str) -> Parser:
    def parse(w: Written) -> Ref:
        tok = w.single(f"{what} id")
        return as_ref(w, tok, what)

    return parse


def refs(what: str) -> Parser:
    def parse(w: Written) -> tuple[Ref, ...]:
        return tuple(as_ref(w, tok, what) for tok in w.items(f"{what} id"))

    return parse


def as_ref(w: Written, tok: Token, what: str) -> Ref:
    if tok.type != "NAME" or "." in tok:
        raise w.fail(f"'{tok}' is not a {what} id", "ids are lower-case words: [a-z_][a-z0-9_]*", token=tok)
    return Ref(word(tok), w.span_of(tok))


def control(w: Written) -> Control:
    """`control P`, `control P proxy_for Q`, `control P delegated_by Q on admission`, `control P under A`."""
    forms = "control PARTY | control PARTY proxy_for PARTY | control PARTY delegated_by PARTY on admission | control PARTY under AGREEMENT"
    if len(w.groups) != 1:
        raise w.fail("'control' takes one controlling party and its basis", forms)
    words = w.groups[0]
    by = as_ref(w, words[0], "party")
    rest = [str(t) for t in words[1:]]
    if not rest:
        return Control(by=by, basis="owner")
    basis = rest[0]
    bases = ("proxy_for", "delegated_by", "under")
    if basis not in bases:
        raise w.fail(f"unknown control basis '{basis}'", allowed_words_hint(basis, bases, "allowed bases"), token=words[1])
    if len(words) < 3:
        raise w.fail(f"'{basis}' needs {'an agreement' if basis == 'under' else 'a party'}", forms, token=words[1])
    target = as_ref(w, words[2], "agreement" if basis == "under" else "party")
    if basis == "under":
        _no_more(w, words, 3, forms)
        return Control(by=by, basis=basis, agreement=target)
    if basis == "proxy_for":
        _no_more(w, words, 3, forms)
        return Control(by=by, basis=basis, party=target)
    tail = [str(t) for t in words[3:]]
    if tail not in ([], ["on", "admission"]):
        raise w.fail("expected 'on admission' after the delegating party", forms, token=words[3])
    return Control(by=by, basis=basis, party=target, on_admission=bool(tail))


def _no_more(w: Written, words: tuple[Token, ...], n: int, forms: str) -> None:
    if len(words) > n:
        raise w.fail(f"unexpected '{words[n]}'", forms, token=words[n])


def signed_by(w: Written) -> Ref:
    """`signed by PARTY`."""
    if len(w.groups) != 1 or len(w.groups[0]) != 2 or str(w.groups[0][0]) != "by":
        raise w.fail("'signed' is written 'signed by PARTY'", "write: signed by riverside")
    return as_ref(w, w.groups[0][1], "party")
