"""`amisec graph`: the deployment's topology drawn as DOT, Mermaid or SVG — the same drawing the
HTML report embeds — optionally coloured by the results of a check.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from amisec.report.topology import to_dot, to_mermaid, to_svg
from amisec.results.topology import Topology, build_topology

GRAPH_FORMATS: dict[str, Callable[[Topology, str], str]] = {
    "svg": lambda topology, layout: to_svg(topology, layout),
    "dot": lambda topology, _layout: to_dot(topology),
    "mermaid": lambda topology, _layout: to_mermaid(topology),
}


def uncoloured(doc: Mapping[str, Any]) -> Topology:
    """The topology of a compiled input without results: every element neutral (not applicable)."""
    return build_topology(doc, ())


def draw(topology: Topology, fmt: str, layout: str = "builtin") -> str:
    """The topology in one of GRAPH_FORMATS."""
    return GRAPH_FORMATS[fmt](topology, layout)
