"""The embedded engine: regopy (rego-cpp) in-process, wrapped around its known quirks.

- Log level NONE on every interpreter, or rego-cpp prints to stdout.
- One interpreter per thread (sharing one between threads crashes); each adds the modules and
  builds the query once (or loads the compiled bundle from `regopy_cache`), then only sets the
  input and runs the prepared bundle.
- Always `x := data.amisec.rules` and read the binding: a bare query whose value is `false`
  comes back undefined.
- Never `with input as …` (crashes on rules that call builtins): the input is set directly.
- Compile errors arrive as s-expressions with byte offsets; they become `file:line:col`.
- Output strings are not escaped by regopy; input strings are protected (`regopy_strings`).
- The input is reduced to the fields the policies name (`slim`): regopy pays for every field.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Mapping, Sequence

import regopy
from regopy import Interpreter, LogLevel, RegoError
from regopy import rego_shared as rs

from . import PolicyModule, regopy_cache
from .errors import EngineError
from .rego_errors import describe
from .regopy_output import read_binding
from .regopy_strings import needs_protection, protect, restore
from .slim import Slimmer, field_ranking

QUERY = "x := data.amisec.rules"
_BINDING = "x"


class _Session:
    """One interpreter with the policies loaded and the query built; used by one thread only."""

    def __init__(self, modules: Sequence[PolicyModule]) -> None:
        self.sources = {m.path: m.source for m in modules}
        self.slimmer = Slimmer(field_ranking(self.sources.values()))
        self.interpreter = Interpreter()
        self.interpreter.log_level = LogLevel.NONE
        key = regopy_cache.bundle_key(QUERY, modules)
        cached = regopy_cache.load(self.interpreter, key)
        self.bundle = cached or self._build(modules)
        if cached is None:
            regopy_cache.store(self.interpreter, self.bundle, key)

    def _build(self, modules: Sequence[PolicyModule]) -> regopy.Bundle:
        try:
            for module in modules:
                self.interpreter.add_module(module.path, module.source)
            return self.interpreter.build(QUERY)
        except RegoError as err:
            raise EngineError("the policies do not compile", describe(str(err), self.sources)) from None

    def run(self, input_doc: Mapping[str, Any]) -> Any:
        started = time.perf_counter()
        slim = self.slimmer.document(input_doc)
        protected = needs_protection(slim)
        try:
            self.interpreter.set_input(protect(slim) if protected else slim)
            handed_over = time.perf_counter()
            output = rs.rego_bundle_query(self.interpreter._impl, self.bundle._impl)
            self.timings = {"handover": handed_over - started, "evaluate": time.perf_counter() - handed_over}
        except RegoError as err:
            raise EngineError("policy evaluation failed", describe(str(err), self.sources)) from None
        try:
            value = read_binding(output, _BINDING)
        finally:
            rs.rego_free_output(output)
        return restore(value) if protected else value


class EmbeddedEngine:
    """Evaluates the policies in-process with regopy; safe to call from several threads."""

    name = "embedded"
    version = f"regopy {regopy.__version__}"

    def __init__(self, modules: Sequence[PolicyModule]) -> None:
        if not modules:
            raise EngineError("no policy modules to evaluate")
        self._modules = tuple(modules)
        self._local = threading.local()
        self.timings: dict[str, float] = {}  # seconds of the last evaluation, by stage (benchmarks)

    def _session(self) -> _Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _Session(self._modules)
        return session

    def prepare(self) -> None:
        """Load and compile the policies now (in this thread) rather than on first use."""
        self._session()

    def evaluate(self, input_doc: Mapping[str, Any]) -> dict:
        """The value of `data.amisec.rules` for this input, as plain Python values."""
        session = self._session()
        value = session.run(input_doc)
        self.timings = session.timings
        if not isinstance(value, dict):
            raise EngineError(f"data.amisec.rules is a {type(value).__name__}, not an object of rule families")
        return value
