"""The compiled input's `index`: where each kind of device and each data class is, by position.

A rule about one kind of element (head ends, links carrying payment data) would otherwise test
every element of a collection, and the embedded engine pays ~10 µs per element tested whatever
the test: at 10k elements a scan for a data class few links carry costs a quarter of a second.
An index turns that scan into a walk over the elements it is about. Every vocabulary word is a
key, with an empty list when nothing matches, as every other property is spelled out."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from .vocab import DATA_CLASSES, DEVICE_KINDS, DOMAIN_KINDS

Element = dict[str, Any]


def build_index(devices: Sequence[Element], links: Sequence[Element], flows: Sequence[Element]) -> dict[str, dict[str, list[int]]]:
    """Per vocabulary word, the ascending positions of the elements it applies to."""
    return {
        "devices_by_kind": _positions(DEVICE_KINDS, devices, lambda d: (d["kind"],)),
        "devices_by_domain_kind": _positions(DOMAIN_KINDS, devices, lambda d: (d["domain_kind"],)),
        "devices_by_data": _positions(DATA_CLASSES, devices, lambda d: d["handles"]),
        "links_by_data": _positions(DATA_CLASSES, links, lambda l: l["carries"]),
        "flows_by_data": _positions(DATA_CLASSES, flows, lambda f: (f["data"],)),
    }


def _positions(words: Sequence[str], elements: Sequence[Element],
               words_of: Callable[[Element], Iterable[str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {word: [] for word in words}
    for i, element in enumerate(elements):
        for word in words_of(element):
            out[word].append(i)
    return out
