"""The compiled input's `index` lists exactly the elements each vocabulary word applies to and
the elements holding each value of the indexed properties, and the policy helpers that walk it
give the subjects a scan of every element would."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from regopy import Interpreter, LogLevel

from amisec.compiler import compile_source, vocab
from amisec.compiler.source import from_bytes
from benchmarks.generate import generate

ROOT = Path(__file__).resolve().parent.parent
PLANS = sorted((ROOT / "deployments").glob("*.ami"))

# index map -> (collection, vocabulary, the words an element holds)
MAPS = {
    "devices_by_kind": ("devices", vocab.DEVICE_KINDS, lambda d: [d["kind"]]),
    "devices_by_domain_kind": ("devices", vocab.DOMAIN_KINDS, lambda d: [d["domain_kind"]]),
    "devices_by_data": ("devices", vocab.DATA_CLASSES, lambda d: d["handles"]),
    "links_by_data": ("links", vocab.DATA_CLASSES, lambda l: l["carries"]),
    "flows_by_data": ("flows", vocab.DATA_CLASSES, lambda f: [f["data"]]),
}

_SWITCH = {True: "on", False: "off"}
_OR_NONE = (lambda v: "none" if v is None else v)

# value map -> (collection, every value, the element's value as a key)
VALUE_MAPS = {
    "devices_by_firmware": ("devices", vocab.FIRMWARE, lambda d: d["firmware"]),
    "devices_by_owner_kind": ("devices", (*vocab.PARTY_KINDS, "none"), lambda d: _OR_NONE(d["owner_kind"])),
    "devices_by_control_by_kind": ("devices", (*vocab.PARTY_KINDS, "none"), lambda d: _OR_NONE(d["control_by_kind"])),
    "devices_by_tamper_detection": ("devices", vocab.SWITCH, lambda d: _SWITCH[d["tamper_detection"]]),
    "links_by_medium": ("links", (*vocab.MEDIA, "none"), lambda l: _OR_NONE(l["medium"])),
    "links_by_encryption": ("links", vocab.ENCRYPTION, lambda l: l["encryption"]),
    "links_by_authentication": ("links", vocab.AUTHENTICATION, lambda l: l["authentication"]),
    "links_by_integrity": ("links", vocab.INTEGRITY, lambda l: l["integrity"]),
    "flows_by_signed_by_kind": ("flows", (*vocab.PARTY_KINDS, "none"), lambda f: _OR_NONE(f["signed_by_kind"])),
    "flows_by_non_repudiation": ("flows", vocab.SWITCH, lambda f: _SWITCH[f["non_repudiation"]]),
    "flows_by_logged": ("flows", vocab.SWITCH, lambda f: _SWITCH[f["logged"]]),
}


def compiled(text: str, name: str = "plan.ami") -> dict:
    return compile_source(from_bytes(text.encode(), name))


@pytest.fixture(scope="module", params=[*PLANS, "generated"], ids=lambda p: getattr(p, "stem", p))
def doc(request: pytest.FixtureRequest) -> dict:
    text = generate(300) if request.param == "generated" else request.param.read_text(encoding="utf-8")
    return compiled(text)


def test_every_word_lists_the_positions_of_the_elements_holding_it(doc: dict) -> None:
    # every word of the vocabulary is a key: one nothing holds is spelled out as []
    assert set(doc["index"]) == set(MAPS) | set(VALUE_MAPS)
    for name, (collection, words, held) in MAPS.items():
        expected = {w: [i for i, e in enumerate(doc[collection]) if w in held(e)] for w in words}
        assert doc["index"][name] == expected, name


def test_every_value_lists_the_elements_holding_it_and_each_element_is_under_one(doc: dict) -> None:
    for name, (collection, values, value_of) in VALUE_MAPS.items():
        expected = {v: [i for i, e in enumerate(doc[collection]) if value_of(e) == v] for v in values}
        assert doc["index"][name] == expected, name
        assert sorted(i for positions in doc["index"][name].values() for i in positions) == list(range(len(doc[collection]))), name


def test_the_value_maps_hold_weak_values_of_a_plan_made_non_compliant() -> None:
    text = """
deployment "d" { utility u }
party u "U" : utility
party t "T" : communication_provider
domain f : utility_edge
domain m : communication
device a : meter in f { owner u; control u; firmware signed; tamper_detection on }
device b : meter in f { owner u }
device c : aggregator in m { owner t; control t }
link ab : a -> c { medium rf_mesh; encryption aes_128; authentication mutual; integrity mac; carries meter_reads }
link bc : b -> c { integrity crc; carries meter_reads }
flow fa : meter_reads from a to c { signed by u; logged on }
flow fb : meter_reads from b to c
"""
    index = compiled(text)["index"]
    assert index["devices_by_firmware"] == {"signed": [0], "unsigned": [1, 2]}
    assert index["devices_by_tamper_detection"] == {"on": [0], "off": [1, 2]}
    assert index["devices_by_owner_kind"]["utility"] == [0, 1] and index["devices_by_owner_kind"]["none"] == []
    assert index["devices_by_control_by_kind"]["none"] == [1]
    assert index["links_by_integrity"] == {"none": [], "crc": [1], "mac": [0], "signature": []}
    assert index["links_by_authentication"] == {"none": [1], "one_way": [], "mutual": [0]}
    assert index["links_by_encryption"]["none"] == [1] and index["links_by_encryption"]["aes_128"] == [0]
    assert index["links_by_medium"]["none"] == [1] and index["links_by_medium"]["rf_mesh"] == [0]
    assert index["flows_by_signed_by_kind"]["utility"] == [0] and index["flows_by_signed_by_kind"]["none"] == [1]
    assert index["flows_by_logged"] == {"on": [0], "off": [1]}
    assert index["flows_by_non_repudiation"] == {"on": [], "off": [0, 1]}


LIB = (ROOT / "policies" / "lib.rego").read_text(encoding="utf-8")


def lib_call(call: str, input_doc: dict) -> list:
    interpreter = Interpreter()
    interpreter.log_level = LogLevel.NONE
    interpreter.add_module("lib.rego", LIB)
    interpreter.set_input(input_doc)
    return json.loads(str(interpreter.query(f"x := data.amisec.lib.{call}")))["bindings"]["x"]


def test_listed_gives_each_position_under_the_words_once() -> None:
    index = {"a": [0, 3], "b": [1], "c": [2]}
    assert sorted(lib_call('listed(input.index, ["a", "b"])', {"index": index})) == [0, 1, 3]
    assert lib_call('listed(input.index, ["c"])', {"index": index}) == [2]


def test_listed_holding_skips_positions_already_listed_under_an_earlier_word() -> None:
    links = [{"carries": ["x", "y"]}, {"carries": ["y"]}, {"carries": ["z"]}, {"carries": ["x", "y", "z"]}]
    index = {w: [i for i, l in enumerate(links) if w in l["carries"]] for w in "xyz"}
    got = lib_call('listed_holding(input.index, ["x", "y", "z"], input.links, "carries")',
                   {"index": index, "links": links})
    assert sorted(got) == [0, 1, 2, 3]
    got = lib_call('listed_holding(input.index, ["z", "y"], input.links, "carries")', {"index": index, "links": links})
    assert sorted(got) == [0, 1, 2, 3]
    assert lib_call('listed_holding(input.index, ["q"], input.links, "carries")', {"index": {"q": []}, "links": links}) == []


def test_listed_except_gives_the_positions_under_every_other_value() -> None:
    index = {"none": [3], "crc": [0, 4], "mac": [1], "signature": [2]}
    assert sorted(lib_call('listed_except(input.index, ["mac", "signature"])', {"index": index})) == [0, 3, 4]
    assert lib_call('listed_except(input.index, ["none", "crc", "mac", "signature"])', {"index": index}) == []
    # a value the rule does not name as passing is walked, whatever it is
    assert sorted(lib_call('listed_except(input.index, ["mac"])', {"index": {**index, "new": [5]}})) == [0, 2, 3, 4, 5]


def test_utility_kinds_names_the_utility_kind_only_when_the_utility_is_its_only_party() -> None:
    alone = {"deployment": {"utility_idx": 0}, "parties": [{"kind": "utility"}, {"kind": "peer_utility"}]}
    assert lib_call("utility_kinds", alone) == ["utility"]
    two = {"deployment": {"utility_idx": 0}, "parties": [{"kind": "utility"}, {"kind": "utility"}]}
    assert lib_call("utility_kinds", two) == []
    assert lib_call("utility_kinds", {"deployment": {"utility_idx": None}, "parties": [{"kind": "utility"}]}) == []
