"""The fast hand-over builds the same engine input as regopy's own converter, from C where the
optional extension is built and from Python where it is not, set through rego-cpp's own entry
points where they are available and through regoSetInput where they are not."""
from __future__ import annotations

import shutil

import pytest
from regopy import Interpreter, LogLevel
from regopy import rego_shared as rs

from amisec.engine import regopy_input, regopy_native
from amisec.engine.regopy_input import handed_document, set_document, set_value
from amisec.engine.slim import Slimmer
from amisec.engine.regopy_strings import protect

VALUES = [
    {"a": 1, "b": -7, "c": 2.5, "d": True, "e": False, "f": None, "g": "text"},
    {"nested": {"list": [1, "two", [3.0, None], {"k": "v"}], "empty": {}, "none": []}},
    {"unicode": "Zürich – 東京 ✓", "big": 2**62, "small": -(2**63), "ids": ["m_0", "m_1", "m_0"]},
    {"zeros": [0.0, -0.0, 0.0, -0.0], "alike": [1, 1.0, True, 0, 0.0, False]},  # equal in Python, not in JSON
    [{"id": "x"}, {"id": "y", "count": 0}],
    "just a string",
    ("a", "tuple"),
    [],
    0.1,
]

# python: the Python walk onto the input stack machine; c: the same walk in C; built: the C
# extension making the engine's nodes itself (`_handover.Tape`)
WALKS = ["python", "c", "built"]


@pytest.fixture(params=WALKS)
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, setter: str) -> str:
    """Each test runs once with each walk; the C ones only where the extension is built, the
    built one only where rego-cpp's entry points are available."""
    if request.param == "python":
        monkeypatch.setattr(regopy_input, "_handover", None)
    elif regopy_input._handover is None:
        pytest.skip("the C extension is not built here (no C compiler at install time)")
    elif request.param == "c":
        monkeypatch.setattr(regopy_input, "builds", lambda: False)
    elif not regopy_input.builds():
        pytest.skip("nodes are built only through rego-cpp's own entry points, not available here")
    return request.param


@pytest.fixture(params=["native", "regoSetInput"], autouse=True)
def setter(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs once with each way of setting the input, the native one where available."""
    if request.param == "regoSetInput":
        monkeypatch.setattr(regopy_native, "_LIBRARY", None)
    elif not regopy_native.available():
        pytest.skip("rego-cpp's entry points are not available here: inputs go through regoSetInput")
    return request.param


def _interpreter() -> Interpreter:
    interpreter = Interpreter()
    interpreter.log_level = LogLevel.NONE
    return interpreter


def _read_back(setter) -> str:
    interpreter = _interpreter()
    setter(interpreter)
    return str(interpreter.query("x := input"))


@pytest.mark.parametrize("value", VALUES)
def test_same_input_as_regopy(walk: str, value) -> None:
    assert _read_back(lambda i: set_value(i._impl, value)) == _read_back(lambda i: i.set_input(list(value) if isinstance(value, tuple) else value))


@pytest.mark.parametrize(("value", "error", "words"), [
    ({"a": {1, 2}}, ValueError, "cannot hand a set"),
    ({"a": [1, b"raw"]}, ValueError, "cannot hand a bytes"),
    ({1: "a"}, ValueError, "cannot hand a int key"),
    ({"a": [2**63]}, OverflowError, "too large"),
    ({"a": -(2**63) - 1}, OverflowError, "too large"),
])
def test_values_json_cannot_hold_are_refused(walk: str, value, error, words: str) -> None:
    interpreter = _interpreter()
    with pytest.raises(error, match=words):
        set_value(interpreter._impl, value)


def test_a_deep_document_is_refused_not_crashed(walk: str) -> None:
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    interpreter = _interpreter()
    with pytest.raises(RecursionError):
        set_value(interpreter._impl, deep)


def test_a_document_deeper_than_the_walks_go_is_refused_whatever_the_recursion_limit(walk: str) -> None:
    # the C walks recurse on the C stack: a raised Python limit must not let them overflow it
    if walk == "python":
        pytest.skip("the Python walk recurses on Python's own stack, bounded by its limit")
    import sys

    deep: dict = {"a": 1}
    for _ in range(20_000):
        deep = {"a": deep}
    interpreter = _interpreter()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        with pytest.raises(RecursionError, match="nested too deep"):
            set_document(interpreter._impl, {"devices": [deep]}, Slimmer({"a": 0}))
        with pytest.raises(RecursionError, match="nested too deep"):
            set_value(interpreter._impl, {"meta": deep})
    finally:
        sys.setrecursionlimit(limit)


def test_the_c_walk_is_built_wherever_a_c_compiler_is() -> None:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler on this machine: the Python walk is the one in use")
    assert regopy_input._handover is not None, "the optional extension amisec.engine._handover did not build"


# Every field of these documents is named: what a slimmer keeps is tested below.
KEEP_ALL = Slimmer({name: rank for rank, name in enumerate(("id", "name", "note"))})


def test_a_document_without_unsafe_strings_is_handed_as_it_is(walk: str) -> None:
    doc = {"devices": [{"id": "meters", "name": "Zürich – 東京", "note": "del\x7f is valid in JSON"}]}
    protected = _hand(doc, KEEP_ALL)
    assert _read_back(lambda i: set_document(i._impl, doc, KEEP_ALL)) == _read_back(lambda i: i.set_input(doc))
    assert protected is False and handed_document(doc, KEEP_ALL, protected) == doc


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "new\nline", "nul\x00byte", "tab\tstop"])
def test_a_document_with_an_unsafe_string_is_handed_protected(walk: str, text: str) -> None:
    doc = {"parties": [{"id": "p", "name": "ok"}, {"id": "q", "name": text}]}
    protected = _hand(doc, KEEP_ALL)
    handed = handed_document(doc, KEEP_ALL, protected)
    assert _read_back(lambda i: set_document(i._impl, doc, KEEP_ALL)) == _read_back(lambda i: i.set_input(handed))
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
    protected = _hand(SLIMMED, slimmer)
    expected = slimmer.document(SLIMMED)
    assert _read_back(lambda i: set_document(i._impl, SLIMMED, slimmer)) == _read_back(lambda i: i.set_input(expected))
    assert list(expected) == ["schema_version", "deployment", "devices", "links", "flows", "waivers", "index"]
    assert list(expected["devices"][0]) == ["kind", "id", "handles"] and expected["flows"][0]["extra"] == {"nested": {"id": "x"}}
    assert expected["index"] == {"devices_by_kind": {"meter": [0], "head_end": [1]}}
    assert protected is False and handed_document(SLIMMED, slimmer, protected) == expected


def test_a_field_scoped_to_collections_is_handed_over_under_them_only(walk: str) -> None:
    # at every depth: a flow's nested `id` goes with the flows' ranking, which has no `id`
    slimmer = Slimmer(RANKING, {"handles": frozenset({"flows"}), "id": frozenset({"devices"})})
    expected = slimmer.document(SLIMMED)
    assert _read_back(lambda i: set_document(i._impl, SLIMMED, slimmer)) == _read_back(lambda i: i.set_input(expected))
    assert list(expected["devices"][0]) == ["kind", "id"]
    assert expected["flows"][0] == {"path": [0, 1], "data": "dr_signal", "extra": {"nested": {}}}


# Rule packages one process hands over one after another, each with the fields it names: a
# field one package alone keeps, fields in another order, a field kept under one collection only.
SLIMMERS = [
    Slimmer(RANKING),
    Slimmer({"id": 0, "data": 1, "devices_by_kind": 2, "links_by_data": 3}),
    Slimmer({"handles": 0, "kind": 1, "unused": 2, "nested": 3, "extra": 4}, {"unused": frozenset({"devices"})}),
    Slimmer({}),
]


def test_one_walk_hands_the_document_as_each_slimmer_slims_it(walk: str) -> None:
    # the same interpreter, one input after another, each built from one walk of the document
    interpreter = _interpreter()
    inputs = regopy_input.Handover(SLIMMED, SLIMMERS)
    for slimmer in [*SLIMMERS, SLIMMERS[1], SLIMMERS[0]]:
        assert inputs.set(interpreter._impl, slimmer) is False
        expected = _read_back(lambda i: i.set_input(slimmer.document(SLIMMED)))
        assert str(interpreter.query("x := input")) == expected


def test_one_walk_evaluates_each_input_as_regopys_own(walk: str) -> None:
    # the queries that take an input apart, on inputs built one after another from one walk
    doc = {"devices": [{"id": f"d_{i}", "kind": ["meter", "collector"][i % 2], "n": i % 3, "on": i % 2 == 1,
                        "tags": ["meter", "a"], "span": {"line": i}} for i in range(9)]}
    slimmers = [Slimmer({"id": 0, "kind": 1, "tags": 2}), Slimmer({"tags": 0, "n": 1, "on": 2, "id": 3})]
    interpreter = _interpreter()
    inputs = regopy_input.Handover(doc, slimmers)
    for slimmer in slimmers * 2:
        inputs.set(interpreter._impl, slimmer)
        own = _interpreter()
        own.set_input(slimmer.document(doc))
        for query in TAKING_APART:
            assert str(interpreter.query(query)) == str(own.query(query)), query


def test_one_walk_protects_an_unsafe_string_for_each_slimmer(walk: str) -> None:
    doc = {"parties": [{"id": "p", "name": 'say "hi"', "kind": "utility"}]}
    slimmers = [Slimmer({"name": 0, "id": 1}), Slimmer({"kind": 0})]
    interpreter = _interpreter()
    inputs = regopy_input.Handover(doc, slimmers)
    for slimmer in slimmers:
        # the walk may protect a slimmed document holding no unsafe string: the output is restored alike
        protected = inputs.set(interpreter._impl, slimmer)
        handed = handed_document(doc, slimmer, protected)
        assert str(interpreter.query("x := input")) == _read_back(lambda i: i.set_input(handed))
        assert protected or slimmer is slimmers[1]


def test_a_value_only_the_slimmers_together_keep_fails_none_of_them(walk: str) -> None:
    # `a.b` is kept by the union of the two slimmers' fields, by neither alone: a value there the
    # engine cannot take fails only a slimmer that keeps it
    doc = {"devices": [{"id": "d", "a": {"b": [[{"k": 2**70}]]}, "c": 2**70}]}
    one, other, both = Slimmer({"id": 0, "a": 1}), Slimmer({"id": 0, "b": 1}), Slimmer({"c": 0})
    interpreter = _interpreter()
    inputs = regopy_input.Handover(doc, [one, other, both])
    for slimmer in (one, other):
        assert inputs.set(interpreter._impl, slimmer) is False
        assert str(interpreter.query("x := input")) == _read_back(lambda i: i.set_input(slimmer.document(doc)))
    with pytest.raises(OverflowError, match="too large"):
        inputs.set(interpreter._impl, both)


def test_one_walk_refuses_a_slimmer_it_was_not_made_for() -> None:
    inputs = regopy_input.Handover(SLIMMED, SLIMMERS[:2])
    with pytest.raises(ValueError, match="not walked for"):
        inputs.set(_interpreter()._impl, Slimmer(RANKING))


def _hand(doc: dict, slimmer: Slimmer) -> bool:
    """Whether `set_document` protected the document's strings."""
    interpreter = _interpreter()  # kept alive: `_impl` is freed with the Interpreter
    return set_document(interpreter._impl, doc, slimmer)


def test_the_slimmed_walk_drops_a_key_no_policy_names_even_if_not_a_str(walk: str) -> None:
    doc = {"devices": [{"id": "m", 7: "x"}]}
    assert _read_back(lambda i: set_document(i._impl, doc, KEEP_ALL)) == _read_back(lambda i: i.set_input({"devices": [{"id": "m"}]}))


def test_the_native_hand_over_is_in_use_on_the_verified_regopy() -> None:
    import platform
    import sys

    import regopy

    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("the native hand-over is for x86-64 Linux")
    assert regopy.__version__ in regopy_native.VERIFIED, (
        f"regopy {regopy.__version__} is not among those read for the native hand-over: read its library "
        "(engine/regopy_native.py) and add it to VERIFIED, or inputs go through the slower regoSetInput")
    assert regopy_native._load() is not None, "a name the native hand-over calls is not exported"


def test_an_input_replaced_again_and_again_keeps_the_latest_and_its_memory(walk: str) -> None:
    # the input's references are the engine's own: the handles are freed at once, an input set
    # over an earlier one frees the earlier one, and what was set reads back whole
    import resource

    interpreter = _interpreter()
    rows = [{"id": f"m_{i}", "kind": "meter", "n": i, "on": i % 2 == 0} for i in range(20_000)]
    peaks = []
    for round_ in range(12):
        set_value(interpreter._impl, {"devices": rows, "round": round_, "index": {"by": [round_]}})
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    assert interpreter.query("x := [count(input.devices), input.round, input.index.by[0], input.devices[7]]").results[0].bindings["x"] == [
        20_000, 11, 11, {"id": "m_7", "kind": "meter", "n": 7, "on": False}]
    assert peaks[-1] - peaks[3] < (peaks[3] - peaks[0]) + 20_000, "memory grows with every input set: one is not freed"


# Queries that take the input apart and put its pieces into new values: keys into objects and
# sets, values into arrays, paths by `walk`, a value serialised; on a document whose keys and
# scalars repeat, so the built input's shared nodes land in many places at once (each query
# has a value: `test_every_taking_apart_query_has_a_value`).
TAKING_APART = [
    "x := {k: v | some k, v in input.devices[4]}",
    "x := {sprintf(\"%s_%d\", [k, i]): v | some i, d in input.devices; some k, v in d}",
    "x := [v | some d in input.devices; some v in d]",
    "x := {k | some d in input.devices; some k, v in d}",
    "x := object.keys(input.devices[1])",
    "x := [p | walk(input, [p, v]); v == \"meter\"]",
    "x := [concat(\"-\", [d.id, d.kind]) | some d in input.devices]",
    "x := {d.kind: count([e | some e in input.devices; e.kind == d.kind]) | some d in input.devices}",
    "x := object.union(input.devices[0], input.devices[2])",
    "x := [d.id | some d in input.devices; d.on == true; d.n >= 1]",
    "x := sort({v | some d in input.devices; v := d.tags[_]})",
]


@pytest.mark.parametrize("query", TAKING_APART)
def test_an_input_of_repeated_keys_and_values_evaluates_as_regopys_own(walk: str, query: str) -> None:
    kinds = ["meter", "collector", "meter"]
    doc = {"devices": [{"id": f"d_{i}", "kind": kinds[i % 3], "n": i % 2, "on": i % 2 == 1, "ratio": 0.5,
                        "tags": ["meter", "a", "meter"], "note": None} for i in range(9)],
           "meter": "meter"}

    def evaluated(setter) -> str:
        interpreter = _interpreter()
        setter(interpreter)
        return str(interpreter.query(query))

    assert evaluated(lambda i: set_value(i._impl, doc)) == evaluated(lambda i: i.set_input(doc))


def test_every_taking_apart_query_has_a_value() -> None:
    interpreter = _interpreter()
    interpreter.set_input({"devices": [{"id": "d", "kind": "meter", "n": 1, "on": True, "tags": ["a"]}] * 5})
    for query in TAKING_APART:
        assert "bindings" in str(interpreter.query(query)), query


_GROWTH = """
import sys
from regopy import Interpreter, LogLevel
from amisec.engine import regopy_input
if sys.argv[1] == "c":
    regopy_input.builds = lambda: False
rows = [{"id": f"m_{i}", "kind": "meter", "domain": "field", "on": i % 2 == 0} for i in range(50_000)]
interpreter = Interpreter()
interpreter.log_level = LogLevel.NONE
def rss():
    return int(open("/proc/self/statm").read().split()[1])
before = rss()
regopy_input.set_value(interpreter._impl, {"devices": rows})
print(rss() - before)
"""


def test_built_nodes_hold_an_input_of_repeated_values_in_a_fraction_of_the_memory() -> None:
    import subprocess
    import sys

    if not regopy_input.builds():
        pytest.skip("nodes are built only through rego-cpp's own entry points, not available here")

    def growth(walk: str) -> int:
        done = subprocess.run([sys.executable, "-c", _GROWTH, walk], capture_output=True, text=True, check=True)
        return int(done.stdout)

    # keys and the repeated words are one node each; only the ids are made 50,000 times
    assert growth("built") * 3 < growth("c")
