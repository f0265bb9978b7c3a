"""The compiled input's `index`: where each kind of device and each data class is, by position,
and which elements hold each value of an enumerated property.

A rule about one kind of element (head ends, links carrying payment data) would otherwise test
every element of a collection, and the embedded engine pays ~10 µs per element tested whatever
the test: at 10k elements a scan for a data class few links carry costs a quarter of a second.
An index turns that scan into a walk over the elements it is about. Every vocabulary word is a
key, with an empty list when nothing matches, as every other property is spelled out.

The value maps (`links_by_integrity`, `devices_by_firmware`, …) serve the rules that test a
property: in a mostly compliant plan few elements hold a weak value, so a rule walks the weak
values' lists and tests only those elements for what it is about. A switch (`tamper_detection`,
`logged`) is keyed `on` / `off` as in the deployment language; a reference that may be absent
(`signed_by_kind`) is keyed `none` when it is."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

from .vocab import (
    AUTHENTICATION, DATA_CLASSES, DEVICE_KINDS, DOMAIN_KINDS, ENCRYPTION, FIRMWARE, INTEGRITY, MEDIA,
    PARTY_KINDS, SWITCH,
)

Element = dict[str, Any]


# Keys of the maps of properties that may be absent: the vocabulary, and `none` for absent.
LINK_MEDIA = (*MEDIA, "none")
PARTY_REF_KINDS = (*PARTY_KINDS, "none")


def build_index(devices: Sequence[Element], links: Sequence[Element], flows: Sequence[Element]) -> dict[str, dict[str, list[int]]]:
    """Per vocabulary word, the ascending positions of the elements it applies to."""
    return {
        "devices_by_kind": _positions(DEVICE_KINDS, [d["kind"] for d in devices]),
        "devices_by_domain_kind": _positions(DOMAIN_KINDS, [d["domain_kind"] for d in devices]),
        "devices_by_data": _positions_of_lists(DATA_CLASSES, [d["handles"] for d in devices]),
        "links_by_data": _positions_of_lists(DATA_CLASSES, [l["carries"] for l in links]),
        "flows_by_data": _positions(DATA_CLASSES, [f["data"] for f in flows]),
        **value_index(devices, links, flows),
    }


def value_index(devices: Sequence[Element], links: Sequence[Element], flows: Sequence[Element]) -> dict[str, dict[str, list[int]]]:
    """Per value of an enumerated property, the ascending positions of the elements holding it:
    each element is under exactly one key of each map."""
    return {
        "devices_by_firmware": _positions(FIRMWARE, [d["firmware"] for d in devices]),
        "devices_by_owner_kind": _positions(PARTY_REF_KINDS, [d["owner_kind"] or "none" for d in devices]),
        "devices_by_control_by_kind": _positions(PARTY_REF_KINDS, [d["control_by_kind"] or "none" for d in devices]),
        "devices_by_tamper_detection": _positions(SWITCH, [_switch(d["tamper_detection"]) for d in devices]),
        "links_by_medium": _positions(LINK_MEDIA, [l["medium"] or "none" for l in links]),
        "links_by_encryption": _positions(ENCRYPTION, [l["encryption"] for l in links]),
        "links_by_authentication": _positions(AUTHENTICATION, [l["authentication"] for l in links]),
        "links_by_integrity": _positions(INTEGRITY, [l["integrity"] for l in links]),
        "flows_by_signed_by_kind": _positions(PARTY_REF_KINDS, [f["signed_by_kind"] or "none" for f in flows]),
        "flows_by_non_repudiation": _positions(SWITCH, [_switch(f["non_repudiation"]) for f in flows]),
        "flows_by_logged": _positions(SWITCH, [_switch(f["logged"]) for f in flows]),
    }


def _switch(value: bool) -> str:
    return "on" if value else "off"


# The values are taken out first, by a comprehension, so the loops below call nothing per element:
# they build 16 maps over every device, link and flow (100k elements: 0.77 s with a function
# called per element).
def _positions(words: Sequence[str], values: Sequence[str]) -> dict[str, list[int]]:
    """Per word, the positions whose value it is."""
    out: dict[str, list[int]] = {word: [] for word in words}
    for i, word in enumerate(values):
        out[word].append(i)
    return out


def _positions_of_lists(words: Sequence[str], lists: Sequence[Iterable[str]]) -> dict[str, list[int]]:
    """Per word, the positions whose list holds it."""
    out: dict[str, list[int]] = {word: [] for word in words}
    for i, held in enumerate(lists):
        for word in held:
            out[word].append(i)
    return out
