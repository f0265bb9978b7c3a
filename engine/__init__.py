"""Evaluation engines: every engine takes the compiled input and returns the raw rule output.

The raw output is `{family: {rule_name: {"subjects": [...], "violations": [...]}}}` — the value
of `data.amisec.rules`. Engines are looked up by name and imported only when chosen, so the
cost of one engine's dependencies is paid only by its users.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any, Mapping, Protocol, Sequence

from .errors import EngineError, PolicyError

__all__ = ["Engine", "EngineError", "PolicyError", "PolicyModule", "get_engine", "engine_names"]


class PolicyModule(Protocol):
    """A Rego module handed to an engine: where it comes from and its text."""

    path: str
    source: str


class Engine(Protocol):
    """What the pipeline needs from an engine."""

    name: str
    version: str

    def evaluate(self, input_doc: Mapping[str, Any]) -> dict:
        """The value of `data.amisec.rules` for this input."""
        ...


# name -> "module:Class"; engines register here and are imported lazily.
_ENGINES: dict[str, str] = {
    "embedded": "amisec.engine.embedded:EmbeddedEngine",
    "opa": "amisec.engine.opa_server:OpaServerEngine",
    "opa-cli": "amisec.engine.opa_cli:OpaCliEngine",
}


def engine_names() -> tuple[str, ...]:
    """Names accepted by `get_engine`, default first."""
    return tuple(_ENGINES)


def get_engine(name: str, *, modules: Sequence[PolicyModule], **options: Any) -> Engine:
    """An engine loaded with the given Rego modules; `options` are engine specific.

    An unknown name is a usage mistake and raises ValueError naming the known engines.
    """
    target = _ENGINES.get(name)
    if target is None:
        raise ValueError(f"unknown engine '{name}' (known: {', '.join(_ENGINES)})")
    module_name, class_name = target.split(":")
    engine_class = getattr(import_module(module_name), class_name)
    return engine_class(modules, **options)
