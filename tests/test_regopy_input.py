"""The fast hand-over builds the same engine input as regopy's own converter, from C where the
optional extension is built and from Python where it is not."""
from __future__ import annotations

import shutil

import pytest
from regopy import Interpreter, LogLevel
from regopy import rego_shared as rs

from amisec.engine import regopy_input
from amisec.engine.regopy_input import handed_document, input_from_document, input_from_value
from amisec.engine.slim import Slimmer
from amisec.engine.regopy_strings import protect

VALUES = [
    {"a": 1, "b": -7, "c": 2.5, "d": True, "e": False, "f": None, "g": "text"},
    {"nested": {"list": [1, "two", [3.0, None], {"k": "v"}], "empty": {}, "none": []}},
    {"unicode": "Zürich – 東京 ✓", "big": 2**62, "small": -(2**63), "ids": ["m_0", "m_1", "m_0"]},
    [{"id": "x"}, {"id": "y", "count": 0}],
    "just a string",
    ("a", "tuple"),
    [],
    0.1,
]

WALKS = ["python", "c"]


@pytest.fixture(params=WALKS)
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs once with each walk; the C one only where the extension is built."""
    if request.param == "python":
        monkeypatch.setattr(regopy_input, "_handover", None)
    elif regopy_input._handover is None:
        pytest.skip("the C extension is not built here (no C compiler at install time)")
    return request.param


def _read_back(setter) -> str:
    interpreter = Interpreter()
    interpreter.log_level = LogLevel.NONE
    setter(interpreter)
    return str(interpreter.query("x := input"))


@pytest.mark.parametrize("value", VALUES)
def test_same_input_as_regopy(walk: str, value) -> None:
    def ours(interpreter: Interpreter) -> None:
        handle = input_from_value(value)
        try:
            rs.rego_set_input(interpreter._impl, handle)
        finally:
            rs.rego_free_input(handle)

    assert _read_back(ours) == _read_back(lambda i: i.set_input(list(value) if isinstance(value, tuple) else value))


@pytest.mark.parametrize(("value", "error", "words"), [
    ({"a": {1, 2}}, ValueError, "cannot hand a set"),
    ({"a": [1, b"raw"]}, ValueError, "cannot hand a bytes"),
    ({1: "a"}, ValueError, "cannot hand a int key"),
    ({"a": [2**63]}, OverflowError, "too large"),
    ({"a": -(2**63) - 1}, OverflowError, "too large"),
])
def test_values_json_cannot_hold_are_refused(walk: str, value, error, words: str) -> None:
    with pytest.raises(error, match=words):
        input_from_value(value)


def test_a_deep_document_is_refused_not_crashed(walk: str) -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(RecursionError):
        input_from_value(deep)


def test_the_c_walk_is_built_wherever_a_c_compiler_is() -> None:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine: the Python walk is the one in use")
    assert regopy_input._handover is not None, "the optional extension amisec.engine._handover did not build"


# Every field of these documents is named: what a slimmer keeps is tested below.
KEEP_ALL = Slimmer({name: rank for rank, name in enumerate(("id", "name", "note"))})


def test_a_document_without_unsafe_strings_is_handed_as_it_is(walk: str) -> None:
    doc = {"devices": [{"id": "meters", "name": "Zürich – 東京", "note": "del\x7f is valid in JSON"}]}
    handle, protected = input_from_document(doc, KEEP_ALL)
    assert _read_back(lambda i: _set(i, handle)) == _read_back(lambda i: i.set_input(doc))
    assert protected is False and handed_document(doc, KEEP_ALL, protected) == doc


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "new\nline", "nul\x00byte", "tab\tstop"])
def test_a_document_with_an_unsafe_string_is_handed_protected(walk: str, text: str) -> None:
    doc = {"parties": [{"id": "p", "name": "ok"}, {"id": "q", "name": text}]}
    handle, protected = input_from_document(doc, KEEP_ALL)
    handed = handed_document(doc, KEEP_ALL, protected)
    assert _read_back(lambda i: _set(i, handle)) == _read_back(lambda i: i.set_input(handed))
    assert protected is True
    assert handed == protect(doc) and handed["parties"][1]["name"] != text
    assert doc["parties"][1]["name"] == text  # the caller's document is left alone


SLIMMED = {
    "schema_version": "1.0",
    "deployment": {"name": "D", "span": {"line": 1}, "utility": "u"},
    "devices": [{"span": {"line": 2}, "kind": "meter", "id": "m", "handles": ["meter_reads"], "unused": 1},
                {"span": {"line": 3}, "kind": "head_end", "id": "h", "handles": [], "unused": 2}],
    "links": [],
    "flows": [{"id": "f", "path": [0, 1], "data": "dr_signal", "extra": {"nested": {"id": "x", "drop": 1}}}],
    "waivers": [[{"id": "inner", "drop": True}]],  # a list of lists: handed as it is
    "index": {"devices_by_kind": {"meter": [0], "head_end": [1]}, "links_by_data": {"meter_reads": []}},
}
RANKING = {"kind": 0, "id": 1, "handles": 2, "path": 3, "data": 4, "extra": 5, "nested": 6, "name": 7,
           "utility": 8, "devices_by_kind": 9}


def test_the_walk_hands_the_document_slimmed_as_the_slimmer_slims_it(walk: str) -> None:
    # fields kept in rank order at every depth, spans and unnamed fields dropped, the index's
    # maps the policies name kept whole, the others dropped, every collection kept
    slimmer = Slimmer(RANKING)
    handle, protected = input_from_document(SLIMMED, slimmer)
    expected = slimmer.document(SLIMMED)
    assert _read_back(lambda i: _set(i, handle)) == _read_back(lambda i: i.set_input(expected))
    assert list(expected) == ["schema_version", "deployment", "devices", "links", "flows", "waivers", "index"]
    assert list(expected["devices"][0]) == ["kind", "id", "handles"] and expected["flows"][0]["extra"] == {"nested": {"id": "x"}}
    assert expected["index"] == {"devices_by_kind": {"meter": [0], "head_end": [1]}}
    assert protected is False and handed_document(SLIMMED, slimmer, protected) == expected


def test_a_field_scoped_to_collections_is_handed_over_under_them_only(walk: str) -> None:
    # at every depth: a flow's nested `id` goes with the flows' ranking, which has no `id`
    slimmer = Slimmer(RANKING, {"handles": frozenset({"flows"}), "id": frozenset({"devices"})})
    handle, _ = input_from_document(SLIMMED, slimmer)
    expected = slimmer.document(SLIMMED)
    assert _read_back(lambda i: _set(i, handle)) == _read_back(lambda i: i.set_input(expected))
    assert list(expected["devices"][0]) == ["kind", "id"]
    assert expected["flows"][0] == {"path": [0, 1], "data": "dr_signal", "extra": {"nested": {}}}


def _set(interpreter: Interpreter, handle: int) -> None:
    try:
        rs.rego_set_input(interpreter._impl, handle)
    finally:
        rs.rego_free_input(handle)


def test_the_slimmed_walk_drops_a_key_no_policy_names_even_if_not_a_str(walk: str) -> None:
    doc = {"devices": [{"id": "m", 7: "x"}]}
    handle, _ = input_from_document(doc, KEEP_ALL)
    assert _read_back(lambda i: _set(i, handle)) == _read_back(lambda i: i.set_input({"devices": [{"id": "m"}]}))
