"""The fast hand-over builds the same engine input as regopy's own converter, from C where the
optional extension is built and from Python where it is not."""
from __future__ import annotations

import shutil

import pytest
from regopy import Interpreter, LogLevel
from regopy import rego_shared as rs

from amisec.engine import regopy_input
from amisec.engine.regopy_input import input_from_document, input_from_value
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


def test_a_document_without_unsafe_strings_is_handed_as_it_is(walk: str) -> None:
    doc = {"devices": [{"id": "meters", "name": "Zürich – 東京", "note": "del\x7f is valid in JSON"}]}
    handle, handed, protected = input_from_document(doc)
    rs.rego_free_input(handle)
    assert handed is doc and protected is False


@pytest.mark.parametrize("text", ['say "hi"', "back\\slash", "new\nline", "nul\x00byte", "tab\tstop"])
def test_a_document_with_an_unsafe_string_is_handed_protected(walk: str, text: str) -> None:
    doc = {"parties": [{"id": "p", "name": "ok"}, {"id": "q", "name": text}]}
    handle, handed, protected = input_from_document(doc)
    rs.rego_free_input(handle)
    assert protected is True
    assert handed == protect(doc) and handed["parties"][1]["name"] != text
    assert doc["parties"][1]["name"] == text  # the caller's document is left alone
