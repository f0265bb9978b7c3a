"""Find the deployment element a violation names in the compiled input."""
from __future__ import annotations

from typing import Any, Mapping

from amisec.compiler.validate import SINGULAR

from .model import Subject

# collection name in the input -> the element type as the language spells it
KINDS = {**SINGULAR, "waivers": "waiver", "deployment": "deployment"}


class ElementNotFound(LookupError):
    """A violation or a subject index names no element of the input."""


def element(doc: Mapping[str, Any], collection: str, index: Any) -> Mapping[str, Any]:
    """The element at `collection[index]`; the deployment itself for collection `deployment`."""
    if collection == "deployment":
        return doc["deployment"]
    if collection not in KINDS:
        raise ElementNotFound(f"unknown collection '{collection}'")
    items = doc.get(collection) or []
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(items):
        raise ElementNotFound(f"{collection}[{index!r}] does not exist (the input has {len(items)} {collection})")
    return items[index]


def element_id(item: Mapping[str, Any], collection: str) -> str:
    """The id users know an element by (the deployment's name for the deployment)."""
    return str(item.get("name") if collection == "deployment" else item.get("id"))


def subject_of(doc: Mapping[str, Any], collection: str, index: Any) -> Subject:
    """The Subject (id, kind and source span) of `collection[index]`; raises ElementNotFound."""
    item = element(doc, collection, index)
    span = item.get("span") or {}
    return Subject(
        collection=collection,
        index=None if collection == "deployment" else index,
        id=element_id(item, collection),
        kind=KINDS[collection],
        file=str(span.get("file", "")),
        line=int(span.get("line", 0)),
        column=int(span.get("column", 0)),
        end_line=int(span.get("end_line", 0)),
        end_column=int(span.get("end_column", 0)),
    )
