"""Read a regopy query result into Python values, safely.

regopy 1.5.2 serialises strings without escaping them: a `"`, `\\` or control character in a
string yields broken or, worse, silently different JSON. The fast path (`json.loads` of the
output text) is therefore used only when no input string contains such a character; otherwise,
or when the text does not parse, the result is read node by node through the C API, which gives
the raw string values.
"""
from __future__ import annotations

import json
from typing import Any

from regopy import NodeKind
from regopy import rego_shared as rs

from .errors import EngineError

_ERROR_KINDS = {NodeKind.Error, NodeKind.ErrorSeq}
_WRAPPERS = {NodeKind.Term, NodeKind.Scalar}


def _walk(node: int) -> Any:
    kind = rs.rego_node_type(node)
    if kind in _WRAPPERS:
        return _walk(rs.rego_node_get(node, 0))
    if kind in (NodeKind.Array, NodeKind.Set):
        return [_walk(rs.rego_node_get(node, i)) for i in range(rs.rego_node_size(node))]
    if kind == NodeKind.Object:
        items = (rs.rego_node_get(node, i) for i in range(rs.rego_node_size(node)))
        return {_walk(rs.rego_node_get(item, 0)): _walk(rs.rego_node_get(item, 1)) for item in items}
    if kind == NodeKind.String:
        return rs.rego_node_value(node)
    if kind == NodeKind.Int:
        return int(rs.rego_node_value(node))
    if kind == NodeKind.Float:
        return float(rs.rego_node_value(node))
    if kind == NodeKind.Boolean:
        return rs.rego_node_value(node) == "true"
    if kind == NodeKind.Null:
        return None
    raise EngineError(f"the engine returned an unexpected value of kind {kind!r}")


def _error_lines(node: int) -> list[str]:
    """`message (code)` for each error below an error node (an ErrorSeq or a single Error)."""
    kind = rs.rego_node_type(node)
    children = [rs.rego_node_get(node, i) for i in range(rs.rego_node_size(node))]
    if kind != NodeKind.Error:
        return [line for child in children for line in _error_lines(child)]
    parts = {rs.rego_node_type(c): rs.rego_node_value(c) for c in children
             if rs.rego_node_type(c) in (NodeKind.ErrorMessage, NodeKind.ErrorCode)}
    # the ErrorAst of a runtime error is the whole input: never worth printing
    message = parts.get(NodeKind.ErrorMessage) or "unknown error"
    code = parts.get(NodeKind.ErrorCode)
    return [f"{message} ({code})" if code else message]


def _raise_if_error(output: int) -> None:
    node = rs.rego_output_node(output)
    if rs.rego_output_ok(output) and rs.rego_node_type(node) not in _ERROR_KINDS:
        return
    lines = tuple(dict.fromkeys(_error_lines(node))) if node else ()
    raise EngineError("policy evaluation failed", lines or ("the engine gave no reason",))


def read_binding(output: int, name: str, *, raw_strings_only: bool) -> Any:
    """The value bound to `name` in a query output (an `x := …` query).

    `raw_strings_only` selects the node-by-node path; pass True when some input string holds a
    character regopy does not escape. Raises EngineError when the query failed or is undefined.
    """
    _raise_if_error(output)
    text = rs.rego_output_string(output)
    if text == "undefined":
        raise EngineError(f"the policies produced no value for '{name}' (is any rule loaded?)")
    if not raw_strings_only:
        try:
            parsed = json.loads(text)
            parsed = parsed[0] if isinstance(parsed, list) else parsed
            return parsed["bindings"][name]
        except (ValueError, KeyError, IndexError, TypeError):
            pass  # broken serialisation: read the nodes instead
    return _walk(rs.rego_output_binding_at_index(output, 0, name))
