"""Report renderers, one module per format, each exposing `render(report, out, **options)`.

`FORMATS` maps a format name to its module; a new format is a new module plus one entry here.
"""
from __future__ import annotations

from types import ModuleType

from . import html, json, junit, lines, markdown, oscal, sarif, table

FORMATS: dict[str, ModuleType] = {
    "table": table,
    "json": json,
    "sarif": sarif,
    "junit": junit,
    "markdown": markdown,
    "html": html,
    "oscal": oscal,
    "lines": lines,
}
