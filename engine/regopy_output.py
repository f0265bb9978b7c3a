"""Read a regopy query output: its errors, or the value of an entrypoint query.

The output text is JSON except where rego-cpp does not escape a string: `sprintf` keeps the JSON
quotes of a string that a builtin such as `concat` or `lower` returned, so
`sprintf("(%s)", [concat(", ", ["a", "b"])])` is `("a, b")` (OPA: `(a, b)`) and its quotes reach
the output text unescaped. When the text does not parse, the value is read node by node instead,
each string from its own JSON form, so such a message survives as rego-cpp computed it.
"""
from __future__ import annotations

import json
from typing import Any

from regopy import NodeKind
from regopy import rego_shared as rs

from .errors import EngineError

_ERROR_KINDS = {NodeKind.Error, NodeKind.ErrorSeq}
_WRAPPERS = {NodeKind.Term, NodeKind.Scalar}
_ERROR_PARTS = (NodeKind.ErrorMessage, NodeKind.ErrorCode)


def _string(node: int) -> str:
    text = rs.rego_node_json(node)
    try:
        value = json.loads(text)
    except ValueError:
        return text[1:-1]  # an unescaped string, wrapped in quotes once: its content as is
    return value if isinstance(value, str) else text[1:-1]


def _walk(node: int) -> Any:
    kind = rs.rego_node_type(node)
    if kind in _WRAPPERS:
        return _walk(rs.rego_node_get(node, 0))
    if kind in (NodeKind.Array, NodeKind.Set):
        return [_walk(rs.rego_node_get(node, i)) for i in range(rs.rego_node_size(node))]
    if kind == NodeKind.Object:
        items = [rs.rego_node_get(node, i) for i in range(rs.rego_node_size(node))]
        return {_walk(rs.rego_node_get(item, 0)): _walk(rs.rego_node_get(item, 1)) for item in items}
    if kind == NodeKind.String:
        return _string(node)
    if kind in (NodeKind.Int, NodeKind.Float, NodeKind.Boolean, NodeKind.Null):
        return json.loads(rs.rego_node_json(node))
    raise EngineError(f"the engine returned a value of unexpected kind {kind.name}")


def _error_lines(node: int) -> list[str]:
    """`message (code)` for each error below an error node (an ErrorSeq or a single Error)."""
    children = [rs.rego_node_get(node, i) for i in range(rs.rego_node_size(node))]
    if rs.rego_node_type(node) != NodeKind.Error:
        return [line for child in children for line in _error_lines(child)]
    # the ErrorAst of a runtime error holds the whole input: never worth printing
    parts = {kind: rs.rego_node_value(c) for c in children if (kind := rs.rego_node_type(c)) in _ERROR_PARTS}
    message = parts.get(NodeKind.ErrorMessage) or "unknown error"
    code = parts.get(NodeKind.ErrorCode)
    return [f"{message} ({code})" if code else message]


def _raise_if_error(output: int) -> None:
    # a runtime error may come back as an "ok" output whose root is an error node
    node = rs.rego_output_node(output)
    if rs.rego_output_ok(output) and node and rs.rego_node_type(node) not in _ERROR_KINDS:
        return
    lines = tuple(dict.fromkeys(_error_lines(node))) if node else ()
    raise EngineError("policy evaluation failed", lines or ("the engine gave no reason",))


def read_value(output: int, what: str) -> Any:
    """The value of an entrypoint query (its one expression); `what` names it in errors.

    Raises EngineError when the query failed or its value is undefined.
    """
    _raise_if_error(output)
    text = rs.rego_output_string(output)
    if text == "undefined":
        raise EngineError(f"the policies produced no value for {what}")
    try:
        parsed = json.loads(text)
        parsed = parsed[0] if isinstance(parsed, list) else parsed
        return parsed["expressions"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return _walk(rs.rego_node_get(rs.rego_output_expressions_at_index(output, 0), 0))


def statement_cap_reached(err: EngineError) -> bool:
    """Whether an evaluation stopped at rego-cpp's limit on statements per query."""
    return any("Maximum statement count" in line for line in err.problems)
