"""Reading a deployment file: bytes → text, with clear errors for what is not a text file or is
over the size limits (`amisec.limits`), found before the parser sees the text."""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace

from .. import limits
from ..limits import Limits
from .diagnostics import Diagnostic, InputError, Span


_KEYWORDS = "deployment|party|agreement|domain|device|link|flow|delegation|waiver"
# A string up to its closing quote or the end of its line, taken atomically (the lookahead and
# back-reference): an unterminated string is never scanned again from each quote inside it, which
# made a 10,000-character line of \" cost O(n²).
_STRING = r'"(?=((?:[^"\\\n]|\\.)*))\1"?'
# Strings and comments are matched whole, so a ';' or a keyword inside them is not a statement.
_STATEMENTS = re.compile(rf'{_STRING}|#[^\n]*|(?:^|;)[ \t\f]*(?:{_KEYWORDS})(?=[ \t\f"])', re.M)
_STRINGS = re.compile(rf'{_STRING}|#[^\n]*')


@dataclass(frozen=True)
class Source:
    """A deployment file's text, name and sha256 of its bytes."""

    file: str
    text: str
    sha256: str

    def __post_init__(self) -> None:
        # Every path to the parser makes a Source: checking here holds every text (a file, a git
        # revision, a test case) to the limits in force before the parser sees it.
        check_text(self.text, self.file)


def from_bytes(data: bytes, file: str) -> Source:
    """Decode UTF-8 (a BOM is allowed and dropped); binary or non-UTF-8 input is an input error."""
    check_size(len(data), file)
    digest = hashlib.sha256(data).hexdigest()
    if b"\x00" in data:
        line, col = _position(data, data.index(b"\x00"))
        raise InputError([Diagnostic(Span(file, line, col, line, col + 1), "this is a binary file, not a deployment description", "a .ami file is UTF-8 text")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line, col = _position(data, err.start)
        raise InputError([Diagnostic(Span(file, line, col, line, col + 1), f"the file is not valid UTF-8 (byte 0x{data[err.start]:02x})", "save the file as UTF-8")]) from None
    return Source(file, text, digest)


def read(path: str, max_bytes: int | None = None) -> Source:
    """Read a deployment file; unreadable, oversized, binary or non-UTF-8 files are input errors.

    The limits are those in force (`limits.current()`), with `max_bytes` instead when given; the
    size is checked before the file is read."""
    span = Span(path, 1, 1, 1, 2)
    in_force = limits.current() if max_bytes is None else replace(limits.current(), max_bytes=max_bytes)
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        check_size(os.path.getsize(path), path, in_force)
        with open(path, "rb") as fh:
            data = fh.read(in_force.max_bytes + 1)  # a file growing meanwhile: never read past the limit
    except InputError:
        raise
    except OSError as err:
        raise InputError([Diagnostic(span, f"cannot read {path}: {err.strerror or err}", "check the path")]) from None
    with limits.applied(in_force):
        return from_bytes(data, path)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col


# --- limits ------------------------------------------------------------------------------------
def _over(file: str, line: int, column: int, message: str, field: str) -> InputError:
    # No source excerpt: the offending line may be megabytes long.
    hint = f"raise the limit with {limits.FLAGS[field]} N if this is intended"
    return InputError([Diagnostic(Span(file, line, column, line, column + 1), message, hint)])


def check_size(size: int, file: str, within: Limits | None = None) -> None:
    """Raise InputError when a file of `size` bytes is over the size limit."""
    limit = (within or limits.current()).max_bytes
    if size > limit:
        raise _over(file, 1, 1, f"the file is {size:,} bytes; the limit is {limit:,} bytes", "max_bytes")


def check_text(text: str, file: str, within: Limits | None = None) -> None:
    """Raise InputError at the first place `text` is over a limit: size, line length, string
    length, then element count. A file far below the limits costs a few counts of its text."""
    within = within or limits.current()
    if len(text) * 4 > within.max_bytes:  # UTF-8 takes at most 4 bytes a character
        check_size(len(text.encode("utf-8", "surrogatepass")), file, within)
    if len(text) > min(within.max_line_length, within.max_string_length):
        _check_lines(text, file, within)
    if text.count("\n") + text.count(";") + 1 > within.max_elements:
        _check_elements(text, file, within)


def _has_line_over(text: str, limit: int) -> bool:
    """Whether a line of `text` is longer than `limit` characters: a jump to the last line break
    within each next `limit` + 1 characters, so a large file is read once in long strides rather
    than split into a string per line (100k elements: 3 ms instead of 65)."""
    start = 0  # always the start of a line
    while len(text) - start > limit:
        newline = text.rfind("\n", start, start + limit + 1)
        if newline < 0:
            return True
        start = newline + 1
    return False


def _check_lines(text: str, file: str, within: Limits) -> None:
    if not _has_line_over(text, min(within.max_line_length, within.max_string_length)):
        return
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if len(line) > within.max_line_length:
            raise _over(file, index + 1, within.max_line_length + 1,
                        f"line {index + 1} is {len(line):,} characters long; the limit is {within.max_line_length:,}",
                        "max_line_length")
    for index, line in enumerate(lines):
        if len(line) > within.max_string_length:  # a string does not span lines: only a long line holds one
            _check_strings(line, index + 1, file, within)


def _check_strings(line: str, number: int, file: str, within: Limits) -> None:
    for match in _STRINGS.finditer(line):
        text = match.group()
        if text.startswith("#"):
            return
        length = len(text) - (2 if len(text) > 1 and text.endswith('"') else 1)  # an unterminated one has no end quote
        if length > within.max_string_length:
            raise _over(file, number, match.start() + 1,
                        f"this string is {length:,} characters long; the limit is {within.max_string_length:,}",
                        "max_string_length")


def _check_elements(text: str, file: str, within: Limits) -> None:
    count = 0
    for match in _STATEMENTS.finditer(text):
        if match.group()[:1] in ('"', "#"):
            continue
        count += 1
        if count > within.max_elements:
            at = match.end() - len(match.group().lstrip("; \t\f"))
            line = text.count("\n", 0, at) + 1
            column = at - (text.rfind("\n", 0, at) + 1) + 1
            raise _over(file, line, column, f"the file has more than {within.max_elements:,} elements (statements); this is number {count:,}",
                        "max_elements")
