"""`amisec init`: a commented starter deployment that passes `amisec check` as written.

The template is package data (`review/templates/starter.ami`); NAME becomes the utility's party
id and, title-cased, the plan's title.
"""
from __future__ import annotations

import re
from importlib.resources import files

from amisec.compiler import InputError, compile_text
from amisec.runner import UsageError

DEFAULT_NAME = "my_utility"
_ID = re.compile(r"^[a-z_][a-z0-9_]*$")
_UTILITY, _TITLE = "__UTILITY__", "__TITLE__"


def template() -> str:
    """The template text with its placeholders."""
    return (files(__package__) / "templates" / "starter.ami").read_text(encoding="utf-8")


def _taken_ids(text: str) -> set[str]:
    """Ids the template declares besides the utility (a NAME equal to one would clash)."""
    heads = re.findall(r"^(?:party|agreement|domain|device|link|flow|delegation)\s+(\w+)", text, re.MULTILINE)
    return set(heads) - {_UTILITY}


def title_of(name: str) -> str:
    """`north_valley` → `North Valley`."""
    return " ".join(word.capitalize() for word in name.split("_") if word) or name


def starter(name: str = DEFAULT_NAME) -> str:
    """The starter plan for a utility whose party id is `name`; raises UsageError for a bad name."""
    if not _ID.match(name):
        raise UsageError(f"'{name}' is not an id: use lower-case letters, digits and _ (e.g. north_valley)")
    text = template()
    if name in _taken_ids(text):
        raise UsageError(f"'{name}' is already an id in the starter plan; choose another name for the utility")
    plan = text.replace(_UTILITY, name).replace(_TITLE, title_of(name))
    try:
        compile_text(plan, f"{name}.ami")
    except InputError:
        raise UsageError(f"'{name}' cannot be the utility's id (is it a word of the language?); choose another name") from None
    return plan
