"""A field is handed over only in the collections whose elements the policies read it on, and
wherever the analysis cannot tell, in every collection."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from amisec.compiler import compile_file, compile_text
from amisec.engine import embedded
from amisec.engine.owners import field_owners
from amisec.engine.regopy_input import set_document
from amisec.engine.slim import Slimmer, slimmer_for
from amisec.policies.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent


def _module(body: str) -> str:
    return f"package amisec.rules.demo\n\nimport rego.v1\n\n{body}\n"


def test_fields_read_through_element_variables_belong_to_their_collection() -> None:
    owners = field_owners([_module('''
walked := [l.medium | some l in input.links]

indexed := [x |
	links := input.links
	some i in walked
	l := links[i]
	x := l.encryption
]

joined := [d.kind | some l in input.links; d := input.devices[l.from_idx]]

direct := [k | some i in walked; k := input.flows[i].priority]

aliased := [m.id | some f in input.flows; m := f]
''')])
    assert owners.scoped == {"medium": {"links"}, "encryption": {"links"}, "kind": {"devices"},
                             "from_idx": {"links"}, "priority": {"flows"}, "id": {"flows"}}


def test_a_name_read_on_two_collections_belongs_to_both() -> None:
    owners = field_owners([_module('''
a := [l.to | some l in input.links]
b := [dl.to | some dl in input.delegations]
c := array.concat([e.kind | some e in input.links], [e.kind | e := input.flows[_]])
''')])
    assert owners.scoped == {"to": {"links", "delegations"}, "kind": {"links", "flows"}}


def test_a_parameter_belongs_to_what_every_call_passes() -> None:
    source = _module('''
_carried(l) := concat(", ", l.carries)
_named(x) := x.id
a := [_carried(l) | some l in input.links]
b := [_named(l) | some l in input.links]
c := [_named(d) | some d in input.devices]
''')
    assert field_owners([source]).scoped == {"carries": {"links"}, "id": {"links", "devices"}}
    # one call from elsewhere with anything but an element: the field is kept everywhere
    other = "package amisec.rules.other\n\nimport rego.v1\n\nz := _carried(input.deployment)\n"
    assert "carries" in field_owners([source, other]).anywhere


@pytest.mark.parametrize("body, name", [
    ('x := [l.a.b | some l in input.links]', "b"),  # a field of a field
    ('x := object.get(input.links[0], "kind", "")', "kind"),  # a quoted name
    ('x := [v.kind | some v in input.index.devices_by_kind]', "kind"),  # not a collection
    ('x := [l.kind | some l in input.links; [l, m] := pairs[_]]', "kind"),  # also bound by a pattern
    ('x := [l.kind | some l in input.links; input.devices[l]]', "kind"),  # also bound as an index
    ('x := [l.kind | l := input.links[_].peer]', "kind"),  # a field's value, not an element
    ('_f(l) := l.kind\nx := _f(input.links[0])\ny := _f(3)', "kind"),  # a call with a number
    ('_f(l) := l.kind', "kind"),  # never called: nothing says what it is given
])
def test_whatever_the_analysis_cannot_tell_is_kept_everywhere(body: str, name: str) -> None:
    owners = field_owners([_module(body)])
    assert name in owners.anywhere and name not in owners.scoped


def test_a_string_and_a_comment_name_no_field_read() -> None:
    owners = field_owners([_module('''
# a note about d.handles
x := [msg | some d in input.devices; msg := sprintf("see l.carries of %s", [d.id])]
''')])
    assert owners.scoped == {"id": {"devices"}}


def test_a_scoped_field_is_handed_over_only_under_its_collections() -> None:
    slimmer = Slimmer({"id": 0, "to": 1, "kind": 2}, {"to": frozenset({"links"})})
    doc = {"links": [{"id": "l", "to": "m", "kind": "x"}], "delegations": [{"id": "g", "to": "p", "kind": "y"}]}
    assert slimmer.document(doc) == {"links": [{"id": "l", "to": "m", "kind": "x"}],
                                     "delegations": [{"id": "g", "kind": "y"}]}
    assert slimmer.keeps("links", "to") and not slimmer.keeps("delegations", "to") and slimmer.keeps("flows", "id")


def _every_key(value: Any, keys: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            _every_key(item, keys)
    elif isinstance(value, list):
        for item in value:
            _every_key(item, keys)
    return keys


def _package_value(session: embedded._Session, package: str, doc: dict, slimmer: Slimmer) -> Any:
    set_document(session.interpreter._impl, doc, slimmer)
    return session._query(session.interpreter, session.bundle, session.entrypoints[package])


def test_each_package_gives_on_its_own_fields_what_it_gives_on_every_field() -> None:
    # The rule cases, the examples and a generated plan: each package evaluated on the input
    # its own process is handed (fields kept only where that package reads them) and on the
    # whole input agree, so no field a rule reads is ever left out.
    from benchmarks.generate import generate

    catalog = load_catalog()
    session = embedded._Session(catalog.files)
    package_of = {rule.id: rule.package for rule in catalog.rules}
    shared = [compile_file(str(p)) for p in sorted((ROOT / "deployments").glob("*.ami"))]
    shared.append(compile_text(generate(embedded.PARALLEL_FROM + 100), "synthetic.ami"))
    docs: dict[str, list[dict]] = {p: list(shared) for p in session.packages}
    for case in catalog.cases:
        try:
            docs[package_of[case.rule_id]].append(compile_text(case.ami, f"<{case.label}>"))
        except Exception:  # noqa: BLE001 — a case that does not compile has its own test
            continue
    compared = 0
    for package, package_docs in docs.items():
        own = session._slimmer((package,))
        assert own.scoped, f"{package}: no field is scoped to a collection"
        for doc in package_docs:
            everything = Slimmer({key: rank for rank, key in enumerate(sorted(_every_key(doc, set())))})
            assert _package_value(session, package, doc, own) == _package_value(session, package, doc, everything), package
            compared += 1
    assert compared > len(catalog.cases)


def test_the_built_in_policies_scope_the_fields_that_would_be_handed_over_twice() -> None:
    owners = slimmer_for(m.source for m in load_catalog().files).scoped
    # a delegation's and a link's `to_kind` are different facts; only delegations' is read
    assert owners["to_kind"] == {"delegations"}
    assert owners["carries"] == {"links"} and owners["handles"] == {"devices"}


def test_a_parameter_unified_with_an_element_is_still_what_its_calls_pass() -> None:
    owners = field_owners([_module('''
_same(l) if {
	l = input.links[0]
	l.kind == "x"
}
x := _same(input.deployment)
''')])
    assert "kind" in owners.anywhere
