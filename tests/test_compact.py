"""A large deployment is compiled in a forked process, and an input compiled here is copied
afresh once its model is gone: either way equal to the plain compilation, its mistakes reported
as they would be here."""
from __future__ import annotations

import pytest

import amisec.compiler as compiler
from amisec.compiler import InputError, compacted_if_large, compile_text
from amisec.forked import can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="compiling apart needs fork()")


@pytest.fixture(scope="module")
def generated() -> str:
    from benchmarks.generate import generate

    return generate(600)


def test_a_large_input_is_compiled_to_an_equal_compact_copy(generated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 10**9)
    plain = compile_text(generated, "synthetic.ami")
    monkeypatch.setattr(compiler, "COMPACT_FROM", 100)
    copied = compile_text(generated, "synthetic.ami")
    assert copied == plain
    assert compacted_if_large(plain) is not plain


def test_a_small_input_is_left_as_it_is() -> None:
    doc = {"devices": [{"id": "a"}], "links": [], "flows": []}
    assert compacted_if_large(doc) is doc


@needs_fork
def test_a_deployment_compiled_apart_equals_one_compiled_here(generated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 10**9)
    here = compile_text(generated, "synthetic.ami")
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 100)
    timings: dict[str, float] = {}
    apart = compiler.compile_source(compiler.from_bytes(generated.encode(), "synthetic.ami"), timings=timings)
    assert apart == here
    assert set(timings) == {"parse", "resolve", "emit", "validate"}


@needs_fork
def test_mistakes_in_a_deployment_compiled_apart_are_reported_as_here(generated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = generated.replace("    owner ", "    owner nobody-at-all #", 1) + "\nfrobnicate x\n"

    def problems() -> str:
        with pytest.raises(InputError) as caught:
            compile_text(broken, "synthetic.ami")
        return str(caught.value)

    monkeypatch.setattr(compiler, "APART_FROM_LINES", 10**9)
    here = problems()
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 100)
    assert problems() == here
    assert "synthetic.ami:" in here


@needs_fork
def test_a_compiling_process_that_dies_leaves_the_compilation_to_this_one(generated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    parent = os.getpid()
    real = compiler._compiled

    def dies_in_the_child(*args, **kwargs):
        if os.getpid() != parent:
            os._exit(9)
        return real(*args, **kwargs)

    monkeypatch.setattr(compiler, "_compiled", dies_in_the_child)
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 100)
    assert compile_text(generated, "synthetic.ami")["devices"]


@needs_fork
def test_an_input_sent_back_in_many_parts_equals_one_compiled_here(generated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # every collection comes back in parts of 7 elements: in order, whole, its keys in order
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 10**9)
    here = compile_text(generated, "synthetic.ami")
    monkeypatch.setattr(compiler, "APART_FROM_LINES", 100)
    monkeypatch.setattr(compiler, "ELEMENTS_PER_PART", 7)
    apart = compile_text(generated, "synthetic.ami")
    assert apart == here and list(apart) == list(here)
    assert len(here["devices"]) > 7 * 3 and [list(d) for d in apart["devices"]] == [list(d) for d in here["devices"]]
