"""The topology picture: built from the compiled input and the results, drawn as DOT, Mermaid and
SVG. The built-in SVG layout needs nothing but Python; Graphviz is used only when asked for."""
from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from importlib.resources import files

import pytest

from amisec.report import topology as draw
from amisec.results.topology import TopoDevice, TopoDomain, TopoLink, Topology, build_topology, worst
from amisec.runner import run_check

SVG = "{http://www.w3.org/2000/svg}"


def small() -> Topology:
    """One domain of each column, a device of each status, a one-way and a two-way link."""
    return Topology(
        domains=(
            TopoDomain("net", "automated_network", "pass", 3),
            TopoDomain("field", "utility_edge", "fail", 1),
            TopoDomain("mesh", "communication", "pass", 2),
            TopoDomain("spare", "utility_enterprise", "not_applicable", 4),
        ),
        devices=(
            TopoDevice("meters", "meter", 48000, "field", "fail", 5),
            TopoDevice("collectors", "aggregator", 40, "mesh", "waived", 6),
            TopoDevice("head_end", "head_end", 1, "net", "pass", 7),
            TopoDevice("end", "mdms", 1, "net", "not_applicable", 8),  # `end` is a Mermaid keyword
        ),
        links=(
            TopoLink("rf", "meters", "collectors", False, "fail", 9),
            TopoLink("backhaul", "collectors", "head_end", True, "pass", 10),
            TopoLink("core", "head_end", "end", False, "waived", 11),
        ),
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def group(root: ET.Element, kind: str, ident: str) -> ET.Element:
    return next(g for g in root.iter(f"{SVG}g") if g.get("data-id") == ident and g.get("class", "").startswith(kind))


def test_worst_status_order() -> None:
    assert worst(["pass", "waived"]) == "waived"
    assert worst(["waived", "fail", "pass"]) == "fail"
    assert worst([]) == "not_applicable"


def test_build_topology_colours_elements_by_their_findings() -> None:
    path = str(files("amisec.deployments").joinpath("prairie_coop.ami"))
    topology = run_check([path]).deployments[0].topology
    assert topology is not None
    devices = {d.id: d for d in topology.devices}
    assert devices["prepay"].status == "fail"  # its storage is plaintext
    assert devices["head_end"].status == "waived"  # both of its findings are waived
    assert devices["meters"].status == "pass" and devices["meters"].count == 18400
    assert {d.id for d in topology.domains} >= {"territory", "homes", "substations", "office"}
    assert all(link.source in devices and link.target in devices for link in topology.links)


def test_build_topology_without_results_marks_everything_not_applicable() -> None:
    doc = {"domains": [{"id": "d", "kind": "communication", "span": {"line": 2}}],
           "devices": [{"id": "x", "kind": "aggregator", "count": 3, "domain": "d"}], "links": []}
    topology = build_topology(doc, [])
    assert topology.domains[0].status == topology.devices[0].status == "not_applicable"
    assert topology.domains[0].line == 2 and topology.devices[0].count == 3


def test_svg_puts_domains_in_columns_by_kind() -> None:
    root = parse(draw.to_svg(small()))
    x = {ident: int(group(root, "domain", ident).find(f"{SVG}rect").get("x")) for ident in ("field", "mesh", "net", "spare")}
    assert x["field"] < x["mesh"] < x["net"] == x["spare"]


def test_svg_colours_each_element_by_its_status() -> None:
    root = parse(draw.to_svg(small()))
    for kind, ident, status in (("device", "meters", "fail"), ("device", "collectors", "waived"),
                                ("device", "head_end", "pass"), ("device", "end", "not_applicable"),
                                ("domain", "field", "fail")):
        rect = group(root, kind, ident).find(f"{SVG}rect")
        assert rect.get("stroke") == draw.COLOURS[status][0], (ident, status)
    rf = group(root, "link", "rf").find(f"{SVG}path")
    assert rf.get("stroke") == draw.COLOURS["fail"][0]
    assert rf.get("marker-end") == "url(#arrow-fail)" and rf.get("marker-start") is None
    backhaul = group(root, "link", "backhaul").find(f"{SVG}path")
    assert backhaul.get("marker-start") == "url(#arrow-pass)"  # either end initiates


def test_svg_places_devices_inside_their_domain() -> None:
    placed = draw.layout(small())
    for device in small().devices:
        inner, outer = placed.devices[device.id], placed.domains[device.domain]
        assert outer.x < inner.x and inner.x + inner.w < outer.x + outer.w
        assert outer.y < inner.y and inner.y + inner.h < outer.y + outer.h


def test_svg_fits_every_label() -> None:
    root = parse(draw.to_svg(small()))
    width = int(root.get("width"))
    for text in root.iter(f"{SVG}text"):
        assert 0 <= int(text.get("x")) < width


def test_svg_is_the_same_every_time_and_escapes_text() -> None:
    odd = Topology((TopoDomain("a", "communication", "pass"),), (TopoDevice("x<&>", "meter", 1, "a", "pass"),), ())
    assert draw.to_svg(small()) == draw.to_svg(small())
    parse(draw.to_svg(odd))  # still well-formed


def test_empty_domain_says_so() -> None:
    assert "(no devices)" in draw.to_svg(small())


def test_unknown_layout_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown layout"):
        draw.to_svg(small(), "neato")


def test_dot_layout_falls_back_to_builtin_without_graphviz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(draw.shutil, "which", lambda name: None)
    assert draw.to_svg(small(), "auto") == draw.to_svg(small(), "builtin")


def test_dot_source() -> None:
    dot = draw.to_dot(small())
    assert dot.startswith("digraph amisec {") and dot.rstrip().endswith("}")
    assert 'subgraph "cluster_field"' in dot
    assert f'"dev_meters" -> "dev_collectors" [label="rf", color="{draw.COLOURS["fail"][0]}"' in dot
    assert re.search(r'"dev_collectors" -> "dev_head_end" \[[^]]*dir=both', dot)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_dot_source_is_accepted_by_graphviz() -> None:
    done = subprocess.run(["dot", "-Tsvg"], input=draw.to_dot(small()), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "<svg" in draw.to_svg(small(), "dot")


def test_mermaid_source() -> None:
    text = draw.to_mermaid(small())
    assert text.startswith("flowchart LR\n")
    assert '  subgraph dom_field["field (utility_edge)"]' in text
    assert "  dev_meters -->|rf| dev_collectors" in text
    assert "  dev_collectors <-->|backhaul| dev_head_end" in text
    assert "  class dev_end not_applicable" in text  # prefixed, so the id `end` is no keyword
    assert f"  linkStyle 0 stroke:{draw.COLOURS['fail'][0]},stroke-width:2px" in text
