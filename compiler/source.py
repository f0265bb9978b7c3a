"""Reading a deployment file: bytes → text, with clear errors for what is not a text file."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

from .diagnostics import Diagnostic, InputError, Span

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Source:
    """A deployment file's text, name and sha256 of its bytes."""

    file: str
    text: str
    sha256: str


def from_bytes(data: bytes, file: str) -> Source:
    """Decode UTF-8 (a BOM is allowed and dropped); binary or non-UTF-8 input is an input error."""
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


def read(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Source:
    """Read a deployment file; unreadable, oversized, binary or non-UTF-8 files are input errors."""
    span = Span(path, 1, 1, 1, 2)
    try:
        size = os.path.getsize(path)
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        if size > max_bytes:
            raise InputError([Diagnostic(span, f"the file is {size} bytes; the limit is {max_bytes}", "raise it with --max-bytes if this is intended")])
        with open(path, "rb") as fh:
            data = fh.read()
    except InputError:
        raise
    except OSError as err:
        raise InputError([Diagnostic(span, f"cannot read {path}: {err.strerror or err}", "check the path")]) from None
    return from_bytes(data, path)


def _position(data: bytes, offset: int) -> tuple[int, int]:
    before = data[:offset]
    line = before.count(b"\n") + 1
    col = offset - (before.rfind(b"\n") + 1) + 1
    return line, col
