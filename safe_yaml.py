"""Loading the YAML that ships with amisec (METADATA blocks, catalogs, mapping, objectives):
always the safe loader, so no YAML tag can construct Python objects, and libyaml's C loader where
it is installed, because a pre-commit run reads every METADATA block on start."""
from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    """The YAML document in `text`; raises yaml.YAMLError when it is not valid YAML."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 — a safe loader
