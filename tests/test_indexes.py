"""The compiled input's `index` lists exactly the elements each vocabulary word applies to, and
the policy helpers that walk it give the subjects a scan of every element would."""
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


def compiled(text: str, name: str = "plan.ami") -> dict:
    return compile_source(from_bytes(text.encode(), name))


@pytest.fixture(scope="module", params=[*PLANS, "generated"], ids=lambda p: getattr(p, "stem", p))
def doc(request: pytest.FixtureRequest) -> dict:
    text = generate(300) if request.param == "generated" else request.param.read_text(encoding="utf-8")
    return compiled(text)


def test_every_word_lists_the_positions_of_the_elements_holding_it(doc: dict) -> None:
    # every word of the vocabulary is a key: one nothing holds is spelled out as []
    assert set(doc["index"]) == set(MAPS)
    for name, (collection, words, held) in MAPS.items():
        expected = {w: [i for i, e in enumerate(doc[collection]) if w in held(e)] for w in words}
        assert doc["index"][name] == expected, name


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
