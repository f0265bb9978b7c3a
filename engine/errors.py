"""The error of the evaluation side: the engine or the policy set failed (exit code 3)."""
from __future__ import annotations


class EngineError(Exception):
    """The engine could not evaluate, or the policies are broken.

    `problems` holds one line per problem, each starting with `file:line:col:` when a position is
    known, so an editor can jump to it.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join((self.message, *(f"  {p}" for p in self.problems)))


class PolicyError(EngineError):
    """A policy file (Rego module, METADATA block or cases file) is malformed."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
