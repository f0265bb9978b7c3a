"""Where reports go: `-f FORMAT[:PATH]` specs, several outputs from one run, atomic writes, and
the report's timestamp (`--timestamp`, SOURCE_DATE_EPOCH) for reproducible reports.

A spec without a path writes to standard output; at most one may. Paths are relative to the
working directory unless absolute; missing parent directories are created. Every output is
rendered before any is written, and each file is replaced in one step, so a failed run never
leaves a half-written report behind.
"""
from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from typing import Any, Iterable, TextIO

from amisec.results.model import Report

from . import FORMATS

DEFAULT_FORMAT = "table"


class OutputError(ValueError):
    """A wrong `-f` spec or `--timestamp`, or a report file that cannot be written (exit code 2)."""


@dataclass(frozen=True)
class OutputSpec:
    """One requested output: a format and a file (None: standard output)."""

    format: str
    path: str | None = None

    def __str__(self) -> str:
        return f"{self.format}:{self.path}" if self.path else self.format


def parse_spec(text: str) -> OutputSpec:
    """`html:report.html` → OutputSpec("html", "report.html"); `table` → OutputSpec("table")."""
    name, sep, path = text.strip().partition(":")
    name = name.strip().lower()
    if name not in FORMATS:
        raise OutputError(f"unknown format '{name}' in '-f {text}' (known: {', '.join(FORMATS)}; "
                          "write FORMAT or FORMAT:PATH)")
    if sep and not path:
        raise OutputError(f"'-f {text}' names no file after the colon (write {name} for standard output)")
    return OutputSpec(name, path or None)


def parse_specs(texts: Iterable[str], default: str = DEFAULT_FORMAT) -> list[OutputSpec]:
    """Every spec, checked: at most one to standard output, no file named twice."""
    specs = [parse_spec(t) for t in texts] or [OutputSpec(default)]
    to_stdout = [str(s) for s in specs if s.path is None]
    if len(to_stdout) > 1:
        raise OutputError(f"only one format can go to standard output, not {', '.join(to_stdout)}; "
                          "give the others a file (FORMAT:PATH)")
    seen: dict[str, OutputSpec] = {}
    for spec in specs:
        if spec.path is None:
            continue
        key = os.path.normcase(os.path.abspath(spec.path))
        if key in seen:
            raise OutputError(f"{spec.path} is named by both '-f {seen[key]}' and '-f {spec}'")
        seen[key] = spec
    return specs


def render_text(report: Report, fmt: str, **options: Any) -> str:
    """The report rendered in one format, as text."""
    buffer = io.StringIO()
    FORMATS[fmt].render(report, buffer, **options)
    return buffer.getvalue()


def _mode_for(path: str) -> int:
    """Keep the mode of a file being replaced; a new file gets the usual mode under the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(path: str, text: str) -> None:
    """Write `text` (UTF-8, newlines as given) to `path` in one step, creating parent directories."""
    folder = os.path.dirname(os.path.abspath(path))
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".amisec-", suffix=".tmp")
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except OSError as err:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise OutputError(f"cannot write {path}: {err.strerror or err}") from None


def write_outputs(report: Report, specs: Iterable[OutputSpec], stdout: TextIO, **options: Any) -> None:
    """Render every spec, then write the files and standard output."""
    rendered = [(spec, render_text(report, spec.format, **options)) for spec in specs]
    for spec, text in rendered:
        if spec.path is not None:
            write_atomic(spec.path, text)
    for spec, text in rendered:
        if spec.path is None:
            stdout.write(text)
            stdout.flush()


def parse_timestamp(text: str) -> datetime:
    """A `--timestamp`: seconds since the epoch, a date, or an ISO 8601 date-time (UTC if no zone)."""
    value = text.strip()
    try:
        if value.isdigit():
            moment = datetime.fromtimestamp(int(value), tz=timezone.utc)
        elif len(value) == 10:
            moment = datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=timezone.utc)
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise OutputError(f"--timestamp '{text}' is not seconds since the epoch, a date (2026-03-31) "
                          "or an ISO 8601 date-time (2026-03-31T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    """`2026-03-31T12:00:00Z`: how every report writes its timestamp."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def stamp(report: Report, moment: datetime) -> Report:
    """The report as of `moment` (its timestamp replaced)."""
    return replace(report, timestamp=iso(moment))
