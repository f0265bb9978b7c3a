"""The fast hand-over builds the same engine input as regopy's own converter."""
from __future__ import annotations

import pytest
from regopy import Interpreter, LogLevel
from regopy import rego_shared as rs

from amisec.engine.regopy_input import input_from_value

VALUES = [
    {"a": 1, "b": -7, "c": 2.5, "d": True, "e": False, "f": None, "g": "text"},
    {"nested": {"list": [1, "two", [3.0, None], {"k": "v"}], "empty": {}, "none": []}},
    {"unicode": "Zürich – 東京 ✓", "big": 2**62, "ids": ["m_0", "m_1", "m_0"]},
    [{"id": "x"}, {"id": "y", "count": 0}],
    "just a string",
    ("a", "tuple"),
]


def _read_back(setter) -> str:
    interpreter = Interpreter()
    interpreter.log_level = LogLevel.NONE
    setter(interpreter)
    return str(interpreter.query("x := input"))


@pytest.mark.parametrize("value", VALUES)
def test_same_input_as_regopy(value) -> None:
    def ours(interpreter: Interpreter) -> None:
        handle = input_from_value(value)
        try:
            rs.rego_set_input(interpreter._impl, handle)
        finally:
            rs.rego_free_input(handle)

    assert _read_back(ours) == _read_back(lambda i: i.set_input(list(value) if isinstance(value, tuple) else value))


def test_values_json_cannot_hold_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot hand a set"):
        input_from_value({"a": {1, 2}})
