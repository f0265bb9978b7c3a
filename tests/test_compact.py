"""A large compiled input is copied afresh once its model is gone: equal, and only when large."""
from __future__ import annotations

import pytest

import amisec.compiler as compiler
from amisec.compiler import compacted_if_large, compile_text


def test_a_large_input_is_compiled_to_an_equal_compact_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchmarks.generate import generate

    text = generate(600)
    plain = compile_text(text, "synthetic.ami")
    monkeypatch.setattr(compiler, "COMPACT_FROM", 100)
    copied = compile_text(text, "synthetic.ami")
    assert copied == plain
    assert compacted_if_large(plain) is not plain


def test_a_small_input_is_left_as_it_is() -> None:
    doc = {"devices": [{"id": "a"}], "links": [], "flows": []}
    assert compacted_if_large(doc) is doc
