"""Report renderers, one module per format, each exposing `render(report, out, **options)`.

`FORMATS` maps a format name to its module; a new format is a new module plus one entry here.
Modules are imported on first use, so a pre-commit run that prints `lines` does not pay for the
HTML or OSCAL renderers.
"""
from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Iterator, Mapping

_MODULES = ("table", "json", "sarif", "junit", "markdown", "html", "oscal", "lines")


class _LazyFormats(Mapping[str, ModuleType]):
    def __getitem__(self, name: str) -> ModuleType:
        if name not in _MODULES:
            raise KeyError(name)
        return import_module(f"{__name__}.{name}")

    def __iter__(self) -> Iterator[str]:
        return iter(_MODULES)

    def __len__(self) -> int:
        return len(_MODULES)


FORMATS: Mapping[str, ModuleType] = _LazyFormats()
