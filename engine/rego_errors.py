"""Turn rego-cpp error s-expressions into `file:line:col: message` lines.

rego-cpp reports a compile error as text such as

    (rego-errorseq
      (error 8:bad.rego|35|4
        (errormsg 18:Invalid collection) ...))

where `8:bad.rego` is a length-prefixed module name, `|35|4` a 0-based byte offset and a length,
and `18:Invalid collection` a length-prefixed message. Lengths count UTF-8 bytes.
"""
from __future__ import annotations

import re
from typing import Mapping

_ERROR = re.compile(rb"\(error(?:\s+(\d+):)?")
_SPAN = re.compile(rb"\|(\d+)\|(\d+)")
_MESSAGE = re.compile(rb"\(errormsg (\d+):")


def _prefixed(data: bytes, start: int, length: int) -> str:
    return data[start : start + length].decode("utf-8", errors="replace")


def position(source: str, offset: int) -> tuple[int, int, str]:
    """1-based line and column of a byte offset in `source`, and that line's text."""
    data = source.encode("utf-8")
    offset = max(0, min(offset, len(data)))
    line_start = data.rfind(b"\n", 0, offset) + 1
    line_end = data.find(b"\n", offset)
    line_end = len(data) if line_end < 0 else line_end
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    line_text = data[line_start:line_end].decode("utf-8", errors="replace")
    return data.count(b"\n", 0, offset) + 1, column, line_text


def _one_error(data: bytes, match: re.Match[bytes], sources: Mapping[str, str]) -> str | None:
    message_match = _MESSAGE.search(data, match.end())
    if message_match is None:
        return None
    message = _prefixed(data, message_match.end(), int(message_match.group(1)))
    if match.group(1) is None:
        return message
    name = _prefixed(data, match.end(), int(match.group(1)))
    span = _SPAN.match(data, match.end() + int(match.group(1)))
    source = sources.get(name)
    if span is None or source is None:
        return f"{name}: {message}"
    line, column, text = position(source, int(span.group(1)))
    return f"{name}:{line}:{column}: {message}\n      {text.strip()}"


def describe(error_text: str, sources: Mapping[str, str]) -> tuple[str, ...]:
    """One problem per error in the s-expression, positioned where the module source is known.

    `sources` maps module names (as given to the interpreter) to their text. Text that is not an
    s-expression is returned as a single problem, so no message is ever lost.
    """
    data = error_text.encode("utf-8")
    problems: list[str] = []
    for match in _ERROR.finditer(data):
        problem = _one_error(data, match, sources)
        if problem and problem not in problems:
            problems.append(problem)
    return tuple(problems) or (error_text.strip() or "unknown engine error",)
