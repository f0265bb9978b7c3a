"""The .ami language: source text → parse tree → model → OPA input (validated).

`compile_file(path)` and `compile_text(text, file)` return the compiled input document; any
mistake in the input raises `InputError` carrying every diagnostic found."""
from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import pickle
import time
from typing import Any, Iterator

from ..forked import ChildFailed, Forked, can_fork, default_jobs
from ..gc_pause import gc_paused
from .diagnostics import Diagnostic, InputError, Span
from .emit import SCHEMA_VERSION, emit
from .model import Model
from .pieces import build_model
from .source import Source, from_bytes, read
from .validate import Index, check_model

__all__ = [
    "SCHEMA_VERSION",
    "Diagnostic",
    "InputError",
    "Model",
    "Source",
    "Span",
    "compile_file",
    "compile_source",
    "compile_text",
    "compacted_if_large",
    "element_count",
    "from_bytes",
    "load_model",
    "read",
]


def load_model(source: Source, jobs: int | None = None,
               timings: dict[str, float] | None = None) -> tuple[Model, Index]:
    """Parse and check a source; raises `InputError` with every problem found. A large source is
    parsed in pieces on up to `jobs` processes (default: the CPUs available)."""
    clock = _Clock(timings)
    with clock("parse"), gc_paused():
        model, problems = build_model(source, jobs or default_jobs())
    with clock("resolve"):
        ids, checked = check_model(model)
    if problems or checked:
        raise InputError(problems + checked, {source.file: source.text})
    return model, ids


def compile_source(source: Source, validate: bool = True, jobs: int | None = None,
                   timings: dict[str, float] | None = None) -> dict[str, Any]:
    """The compiled OPA input of a source, validated against the input schema; `timings`, when
    given, receives each stage's seconds (parse, resolve, emit, validate). A large source is
    compiled in a forked process (`APART_FROM_LINES`)."""
    if source.text.count("\n") >= APART_FROM_LINES and can_fork():
        started = time.perf_counter()
        try:
            outcome = Forked(functools.partial(_compiled_apart, source, validate, jobs), f"compiling {source.file}").result()
        except ChildFailed:
            pass  # compiled here instead, so that whatever went wrong is reported as itself
        else:
            if outcome[0] == "problems":
                raise InputError(*outcome[1])
            sent, seconds = outcome[1]
            doc = _received(sent)
            if timings is not None:
                timings.update(seconds)  # the copy back counts as emitting, as a compaction would
                timings["emit"] = timings.get("emit", 0.0) + time.perf_counter() - started - sum(seconds.values())
            return doc
    return _compiled(source, validate, jobs, timings, compact=True)


# From this many lines (~10k elements) a deployment is compiled in a forked process that sends
# back only the compiled input: the model, and the memory freeing it would leave scattered through
# this process's heap, go when that process ends (100k elements: evaluation starts with 250 MB
# held here rather than 690 MB, and a forked evaluator inherits as little).
APART_FROM_LINES = 30_000


# A compiled input comes back from the compiling process a part of this many elements of each
# collection at a time, each part pickled on its own: pickle keeps a table of every object it has
# written, which for a whole utility-scale input outgrows the processor's cache (100k elements:
# 0.23 -> 0.14 s to pickle, and a third fewer bytes; equal strings in two parts come back as two).
ELEMENTS_PER_PART = 2048


def _compiled_apart(source: Source, validate: bool, jobs: int | None) -> tuple[str, Any]:
    """`_compiled` in a forked child: its input (`_sent`) and stage seconds, or its diagnostics as
    a value."""
    timings: dict[str, float] = {}
    try:
        return "ok", (_sent(_compiled(source, validate, jobs, timings, compact=False)), timings)
    except InputError as err:
        return "problems", (err.diagnostics, err.sources)


def _sent(doc: dict[str, Any]) -> list[tuple[str, bool, Any]]:
    """The compiled input as the compiling process sends it: per top-level key, whether its value
    is in parts, and the value or its pickled parts."""
    return [(key, True, [pickle.dumps(value[at:at + ELEMENTS_PER_PART], protocol=pickle.HIGHEST_PROTOCOL)
                         for at in range(0, len(value), ELEMENTS_PER_PART)])
            if type(value) is list else (key, False, value)
            for key, value in doc.items()]


def _received(sent: list[tuple[str, bool, Any]]) -> dict[str, Any]:
    """The compiled input `_sent` sent (nothing unpickled here comes from outside amisec's own
    processes)."""
    with gc_paused():  # millions of acyclic objects, which the collector would only rescan
        return {key: list(itertools.chain.from_iterable(map(pickle.loads, value))) if in_parts else value
                for key, in_parts, value in sent}


def _compiled(source: Source, validate: bool, jobs: int | None, timings: dict[str, float] | None,
              compact: bool) -> dict[str, Any]:
    model, ids = load_model(source, jobs, timings)
    clock = _Clock(timings)
    with gc_paused():
        with clock("emit"):
            doc = emit(model, ids)
            del model, ids  # so that its memory is free before the copy
            doc = compacted_if_large(doc) if compact else doc
        if validate:
            from .schema import validate_input

            with clock("validate"):
                validate_input(doc)
    return doc


class _Clock:
    """Adds each block's seconds under its name to `timings` (None: times nothing)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started


# From this many devices, links and flows a compacted input pays for its copy (measured: even at
# 10k elements, at 100k 1 s faster end to end and 160 MB less at the peak).
COMPACT_FROM = 10_000


def element_count(doc: dict[str, Any]) -> int:
    """The devices, links and flows of a compiled input: the size its costs grow with."""
    return sum(len(doc.get(key) or ()) for key in ("devices", "links", "flows"))


def compacted_if_large(doc: dict[str, Any]) -> dict[str, Any]:
    """An equal copy of `doc` laid out afresh, when it holds `COMPACT_FROM` elements or more.

    The input shares strings with the model it was emitted from, and the model's freed memory
    stays scattered between them (100k elements: 643 MB held for a 225 MB input); a copy made once
    the model is gone lies together, in order, and every later walk of it (the schema check, the
    hand-over to the engine, joining results) runs faster. Pickle makes the copy in C, shared
    values kept shared; nothing unpickled here comes from outside this process."""
    if element_count(doc) < COMPACT_FROM:
        return doc
    return pickle.loads(pickle.dumps(doc, protocol=pickle.HIGHEST_PROTOCOL))


def compile_text(text: str, file: str = "<string>") -> dict[str, Any]:
    """Compile deployment text (the sha256 is of its UTF-8 bytes)."""
    data = text.encode("utf-8")
    return compile_source(Source(file, text, hashlib.sha256(data).hexdigest()))


def compile_file(path: str) -> dict[str, Any]:
    """Compile a deployment file."""
    return compile_source(read(path))
