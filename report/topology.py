"""Draw a deployment's topology: domains as clusters, devices inside them, links between them,
each coloured by its worst result (fail red, waived amber, pass green, not applicable grey).

    to_dot(topology)      Graphviz DOT source
    to_mermaid(topology)  Mermaid flowchart source (renders in GitHub Markdown)
    to_svg(topology)      SVG, laid out in pure Python (a system `dot` may lay it out instead)

The built-in layout puts domains in three columns by kind — edge domains left, the communication
domain in the middle, network and enterprise domains right — so a picture reads the way the AMI
security architecture draws its domains, and the same input always gives the same bytes.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from html import escape  # XML-safe too (& < > " '), and lighter to import than xml.sax
from typing import Iterable

from amisec.results.topology import TopoDevice, TopoDomain, TopoLink, Topology

# status -> (stroke, fill)
COLOURS = {
    "fail": ("#cf222e", "#ffebe9"),
    "waived": ("#bf8700", "#fff8c5"),
    "pass": ("#1a7f37", "#dafbe1"),
    "not_applicable": ("#6e7781", "#f6f8fa"),
}
STATUS_WORDS = {"fail": "fail", "waived": "waived", "pass": "pass", "not_applicable": "not applicable"}
COLUMNS = (
    ("edge", ("utility_edge", "premise_edge")),
    ("communication", ("communication",)),
    ("network and enterprise", ("managed_network", "automated_network", "utility_enterprise")),
)
LAYOUTS = ("builtin", "dot", "auto")


def column_of(kind: str) -> int:
    """0 for edge domains, 1 for the communication domain, 2 for network and enterprise (and unknown)."""
    return next((n for n, (_, kinds) in enumerate(COLUMNS) if kind in kinds), len(COLUMNS) - 1)


def _fleet(device: TopoDevice) -> str:
    return f"{device.kind} ×{device.count:,}" if device.count > 1 else device.kind


def _tooltip(kind: str, ident: str, detail: str, status: str, line: int) -> str:
    where = f", line {line}" if line else ""
    return f"{kind} {ident} ({detail}{where}): {STATUS_WORDS[status]}"


# --- DOT --------------------------------------------------------------------------------------

def _dot_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(topology: Topology) -> str:
    """Graphviz DOT source: a cluster per domain, a node per device, an edge per link."""
    out = [
        "digraph amisec {",
        "  graph [rankdir=LR, compound=true, fontname=\"Helvetica\", fontsize=11, nodesep=0.3, ranksep=1.1];",
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10];",
        "  edge [fontname=\"Helvetica\", fontsize=9];",
    ]
    for domain in topology.domains:
        stroke, fill = COLOURS[domain.status]
        out.append(f"  subgraph {_dot_str('cluster_' + domain.id)} {{")
        out.append(f"    label={_dot_str(f'{domain.id} ({domain.kind})')}; color={_dot_str(stroke)}; "
                   f"style=\"rounded\"; penwidth=1.5; tooltip={_dot_str(_tooltip('domain', domain.id, domain.kind, domain.status, domain.line))};")
        for device in topology.devices_in(domain.id):
            d_stroke, d_fill = COLOURS[device.status]
            label = f"{device.id}\\n{_fleet(device)}".replace('"', '\\"')
            tip = _tooltip("device", device.id, _fleet(device), device.status, device.line)
            out.append(f"    {_dot_str('dev_' + device.id)} [label=\"{label}\", color={_dot_str(d_stroke)}, "
                       f"fillcolor={_dot_str(d_fill)}, tooltip={_dot_str(tip)}];")
        out.append("  }")
    for link in topology.links:
        stroke, _ = COLOURS[link.status]
        direction = ", dir=both" if link.bidirectional else ""
        tip = _tooltip("link", link.id, f"{link.source} {'<->' if link.bidirectional else '->'} {link.target}", link.status, link.line)
        out.append(f"  {_dot_str('dev_' + link.source)} -> {_dot_str('dev_' + link.target)} "
                   f"[label={_dot_str(link.id)}, color={_dot_str(stroke)}, fontcolor={_dot_str(stroke)}{direction}, "
                   f"tooltip={_dot_str(tip)}];")
    out.append("}")
    return "\n".join(out) + "\n"


# --- Mermaid ----------------------------------------------------------------------------------

def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")


def to_mermaid(topology: Topology) -> str:
    """Mermaid flowchart source; ids are prefixed so that no element id collides with a keyword."""
    out = ["flowchart LR"]
    for domain in topology.domains:
        out.append(f'  subgraph dom_{domain.id}["{_mermaid_text(f"{domain.id} ({domain.kind})")}"]')
        for device in topology.devices_in(domain.id):
            out.append(f'    dev_{device.id}["{_mermaid_text(device.id)}<br/>{_mermaid_text(_fleet(device))}"]')
        out.append("  end")
    for link in topology.links:
        arrow = "<-->" if link.bidirectional else "-->"
        out.append(f"  dev_{link.source} {arrow}|{_mermaid_text(link.id)}| dev_{link.target}")
    for status, (stroke, fill) in COLOURS.items():
        out.append(f"  classDef {status} fill:{fill},stroke:{stroke},color:#1f2328")
    for device in topology.devices:
        out.append(f"  class dev_{device.id} {device.status}")
    for domain in topology.domains:
        stroke, _ = COLOURS[domain.status]
        out.append(f"  style dom_{domain.id} fill:#ffffff,stroke:{stroke},stroke-width:2px")
    for number, link in enumerate(topology.links):
        stroke, _ = COLOURS[link.status]
        out.append(f"  linkStyle {number} stroke:{stroke},stroke-width:2px")
    return "\n".join(out) + "\n"


# --- SVG, built-in layout ---------------------------------------------------------------------

MARGIN, COLUMN_HEAD = 20, 30
DEVICE_W, DEVICE_H, DEVICE_GAP = 184, 40, 10
DOMAIN_PAD, DOMAIN_HEAD, DOMAIN_GAP = 12, 36, 22
COLUMN_GAP = 150
DOMAIN_W = DEVICE_W + 2 * DOMAIN_PAD
LEGEND_H = 40
MAX_CHARS = 26


@dataclass(frozen=True)
class Box:
    """A placed rectangle and the column it is in."""

    x: int
    y: int
    w: int
    h: int
    column: int

    @property
    def cy(self) -> int:
        """Vertical middle."""
        return self.y + self.h // 2


@dataclass(frozen=True)
class Layout:
    """Where everything goes."""

    width: int
    height: int
    domains: dict[str, Box]
    devices: dict[str, Box]


def _domain_height(count: int) -> int:
    return DOMAIN_HEAD + max(count, 1) * (DEVICE_H + DEVICE_GAP) - DEVICE_GAP + DOMAIN_PAD


def layout(topology: Topology) -> Layout:
    """Place domains in their columns (source order within a column) and devices in their domain."""
    domains: dict[str, Box] = {}
    devices: dict[str, Box] = {}
    bottoms = [MARGIN + COLUMN_HEAD] * len(COLUMNS)
    for domain in topology.domains:
        column = column_of(domain.kind)
        members = topology.devices_in(domain.id)
        x, y = MARGIN + column * (DOMAIN_W + COLUMN_GAP), bottoms[column]
        domains[domain.id] = Box(x, y, DOMAIN_W, _domain_height(len(members)), column)
        for n, device in enumerate(members):
            devices[device.id] = Box(x + DOMAIN_PAD, y + DOMAIN_HEAD + n * (DEVICE_H + DEVICE_GAP), DEVICE_W, DEVICE_H, column)
        bottoms[column] = y + domains[domain.id].h + DOMAIN_GAP
    width = 2 * MARGIN + len(COLUMNS) * DOMAIN_W + (len(COLUMNS) - 1) * COLUMN_GAP
    height = max(bottoms) + LEGEND_H + MARGIN
    return Layout(width, height, domains, devices)


def _short(text: str, limit: int = MAX_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(x: int, y: int, text: str, cls: str, anchor: str = "start") -> str:
    anchor_attr = "" if anchor == "start" else f' text-anchor="{anchor}"'
    return f'<text x="{x}" y="{y}" class="{cls}"{anchor_attr}>{escape(text)}</text>'


def _svg_domain(domain: TopoDomain, box: Box) -> list[str]:
    stroke, _ = COLOURS[domain.status]
    tip = _tooltip("domain", domain.id, domain.kind, domain.status, domain.line)
    out = [
        f'<g class="domain {domain.status}" data-id="{escape(domain.id)}"><title>{escape(tip)}</title>',
        f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="10" fill="#ffffff" stroke="{stroke}" stroke-width="2"/>',
        _text(box.x + 10, box.y + 16, _short(domain.id), "dom-id"),
        _text(box.x + 10, box.y + 29, domain.kind, "dom-kind"),
    ]
    if box.h <= _domain_height(0):
        out.append(_text(box.x + box.w // 2, box.y + DOMAIN_HEAD + DEVICE_H // 2 + 4, "(no devices)", "empty", "middle"))
    out.append("</g>")
    return out


def _svg_device(device: TopoDevice, box: Box) -> list[str]:
    stroke, fill = COLOURS[device.status]
    tip = _tooltip("device", device.id, _fleet(device), device.status, device.line)
    return [
        f'<g class="device {device.status}" data-id="{escape(device.id)}"><title>{escape(tip)}</title>',
        f'<rect x="{box.x}" y="{box.y}" width="{box.w}" height="{box.h}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>',
        _text(box.x + 10, box.y + 17, _short(device.id), "dev-id"),
        _text(box.x + 10, box.y + 32, _short(_fleet(device), MAX_CHARS + 4), "dev-kind"),
        "</g>",
    ]


@dataclass(frozen=True)
class Route:
    """A link's SVG path, the point its label goes and how the label is anchored."""

    path: str
    label_x: int
    label_y: int
    anchor: str

    @property
    def right(self) -> int:
        """The rightmost x the label may reach (a rough width: 7 px per character)."""
        return self.label_x + (7 * MAX_CHARS if self.anchor == "start" else 7 * MAX_CHARS // 2)


def route(source: Box, target: Box, bend: int) -> Route:
    """The path between two device boxes: an arc on the right within a column, a curve across."""
    if source.column == target.column:
        # Same column: an arc on the right, each further link of the column bending further out.
        x0, x3 = source.x + source.w, target.x + target.w
        reach = 30 + 16 * bend
        points = ((x0, source.cy), (x0 + reach, source.cy), (x3 + reach, target.cy), (x3, target.cy))
    else:
        forward = source.column < target.column
        x0 = source.x + source.w if forward else source.x
        x3 = target.x if forward else target.x + target.w
        pull = max(40, abs(x3 - x0) // 3) * (1 if forward else -1)
        points = ((x0, source.cy), (x0 + pull, source.cy), (x3 - pull, target.cy), (x3, target.cy))
    (ax, ay), (bx, by), (cx, cy), (dx, dy) = points
    mx, my = (ax + 3 * bx + 3 * cx + dx) // 8, (ay + 3 * by + 3 * cy + dy) // 8  # the curve at t = 1/2
    path = f"M{ax},{ay} C{bx},{by} {cx},{cy} {dx},{dy}"
    if source.column == target.column:
        return Route(path, mx + 4, my + 4, "start")
    return Route(path, mx, my - 4, "middle")


def _svg_link(link: TopoLink, placed: Route) -> list[str]:
    stroke, _ = COLOURS[link.status]
    arrows = f' marker-end="url(#arrow-{link.status})"'
    if link.bidirectional:
        arrows += f' marker-start="url(#arrow-{link.status})"'
    arrow_word = "<->" if link.bidirectional else "->"
    tip = _tooltip("link", link.id, f"{link.source} {arrow_word} {link.target}", link.status, link.line)
    return [
        f'<g class="link {link.status}" data-id="{escape(link.id)}"><title>{escape(tip)}</title>',
        f'<path d="{placed.path}" fill="none" stroke="{stroke}" stroke-width="1.8"{arrows}/>',
        f'<text x="{placed.label_x}" y="{placed.label_y}" class="link-id" text-anchor="{placed.anchor}" fill="{stroke}">'
        f'{escape(_short(link.id))}</text>',
        "</g>",
    ]


def routes(topology: Topology, placed: Layout) -> list[tuple[TopoLink, Route]]:
    """Every drawable link with its route; within a column, shorter arcs nest inside longer ones."""
    drawable = [
        (link, placed.devices[link.source], placed.devices[link.target])
        for link in topology.links
        if link.source in placed.devices and link.target in placed.devices and link.source != link.target
    ]
    same = sorted((n for n, (_, s, t) in enumerate(drawable) if s.column == t.column),
                  key=lambda n: (abs(drawable[n][1].cy - drawable[n][2].cy), n))
    bends: dict[int, int] = {}
    per_column: dict[int, int] = {}
    for n in same:
        column = drawable[n][1].column
        bends[n] = per_column.get(column, 0)
        per_column[column] = bends[n] + 1
    return [(link, route(s, t, bends.get(n, 0))) for n, (link, s, t) in enumerate(drawable)]


def _markers() -> list[str]:
    out = ["<defs>"]
    for status, (stroke, _) in COLOURS.items():
        out.append(f'<marker id="arrow-{status}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
                   f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{stroke}"/></marker>')
    out.append("</defs>")
    return out


def _legend(y: int) -> list[str]:
    out = ['<g class="legend">']
    x = MARGIN
    for status, (stroke, fill) in COLOURS.items():
        out.append(f'<rect x="{x}" y="{y}" width="14" height="14" rx="3" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
        out.append(_text(x + 20, y + 11, STATUS_WORDS[status], "legend"))
        x += 40 + 8 * len(STATUS_WORDS[status])
    out.append(_text(x + 10, y + 11, "a → b: a initiates the link; a ↔ b: either end does", "legend"))
    out.append("</g>")
    return out


_STYLE = (
    "<style>"
    "text{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;fill:#1f2328}"
    ".col-head{font-size:12px;font-weight:600;fill:#57606a;text-transform:uppercase;letter-spacing:.05em}"
    ".dom-id{font-size:13px;font-weight:600}.dom-kind{font-size:11px;fill:#57606a}"
    ".dev-id{font-size:12px;font-weight:600}.dev-kind{font-size:11px;fill:#57606a}"
    ".empty{font-size:11px;fill:#8c959f;font-style:italic}"
    ".link-id{font-size:11px;paint-order:stroke;stroke:#ffffff;stroke-width:3px;stroke-linejoin:round}"
    ".legend{font-size:11px;fill:#57606a}"
    "</style>"
)


def _builtin_svg(topology: Topology) -> str:
    placed = layout(topology)
    drawn = routes(topology, placed)
    width = max([placed.width, *(r.right + MARGIN for _, r in drawn)])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{placed.height}" '
        f'viewBox="0 0 {width} {placed.height}" role="img" aria-label="Deployment topology">',
        _STYLE,
        *_markers(),
        f'<rect width="{width}" height="{placed.height}" fill="#ffffff"/>',
    ]
    for n, (title, _) in enumerate(COLUMNS):
        out.append(_text(MARGIN + n * (DOMAIN_W + COLUMN_GAP), MARGIN + 12, title, "col-head"))
    for domain in topology.domains:
        out += _svg_domain(domain, placed.domains[domain.id])
    for device in topology.devices:
        if device.id in placed.devices:
            out += _svg_device(device, placed.devices[device.id])
    for link, placed_route in drawn:
        out += _svg_link(link, placed_route)
    out += _legend(placed.height - MARGIN - LEGEND_H + 14)
    out.append("</svg>")
    return "\n".join(out) + "\n"


# --- SVG through Graphviz (optional) -----------------------------------------------------------

def graphviz_available() -> bool:
    """A `dot` program is on PATH."""
    return shutil.which("dot") is not None


def _graphviz_svg(topology: Topology) -> str | None:
    """SVG from the system's `dot`, without its XML prolog; None when dot is missing or fails."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    try:
        done = subprocess.run([dot, "-Tsvg"], input=to_dot(topology), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    start = done.stdout.find("<svg")
    if done.returncode != 0 or start < 0:
        return None
    return done.stdout[start:].rstrip() + "\n"


def to_svg(topology: Topology, layout_engine: str = "builtin") -> str:
    """The topology as SVG (no XML prolog, so it can be inlined in HTML).

    `layout_engine`: `builtin` (pure Python, reproducible byte for byte), `dot` (the system's
    Graphviz, falling back to builtin when it is missing), or `auto` (same as `dot`).
    """
    if layout_engine not in LAYOUTS:
        raise ValueError(f"unknown layout '{layout_engine}' (choose from {', '.join(LAYOUTS)})")
    if layout_engine in ("dot", "auto"):
        drawn = _graphviz_svg(topology)
        if drawn is not None:
            return drawn
    return _builtin_svg(topology)


def statuses(items: Iterable[TopoDomain | TopoDevice | TopoLink]) -> dict[str, int]:
    """How many elements have each status (for captions)."""
    counts = dict.fromkeys(COLOURS, 0)
    for item in items:
        counts[item.status] += 1
    return counts
