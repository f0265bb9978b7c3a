"""The embedded engine is handed only the fields the policies name, the ones read on every
element first."""
from __future__ import annotations

from amisec.engine.slim import Slimmer, field_ranking

POLICY = '''package amisec.rules.demo

import rego.v1

_flagged := [i | some i; l := input.links[i]; _risky(l)]

_risky(l) if {
	l.medium == "internet"
} else := true if {
	_weak(l.encryption)
}

_weak(e) if e == "none"

report := {
	"subjects": _flagged,
	"violations": [msg |
		links := input.links
		some i in _flagged
		l := links[i]
		msg := sprintf("%s to %s: %s", [l.id, l.to, l.id])
	],
}

_by_owner := [i | some d in input.devices; d.owner == "x"]
'''


def test_fields_read_on_every_element_come_first_then_the_rest_by_mentions() -> None:
    ranking = field_ranking([POLICY])
    fields = ("id", "to", "medium", "encryption", "owner")
    order = sorted(fields, key=ranking.__getitem__)
    # medium and encryption are read by helpers of a whole-collection scan, owner by another scan;
    # id (mentioned twice) and to (once) only in messages built from the subjects
    assert set(order[:3]) == {"medium", "encryption", "owner"}
    assert order[3:] == ["id", "to"]


def test_fields_tested_while_walking_an_index_list_come_before_those_in_messages() -> None:
    # the policies' own shape: the subjects come from input.index, the collection is bound to a
    # local name, and messages are built with sprintf/concat (a parenthesis inside a string)
    policy = """package amisec.rules.demo

import rego.v1

_alerting := input.index.links_by_data.tamper_alert

protected := {
	"subjects": _alerting,
	"violations": [lib.violation("links", i, msg, "mac", sprintf("integrity %s", [l.medium])) |
		links := input.links
		some i in _alerting
		l := links[i]
		not _protected(l)
		msg := sprintf("%s (%s) to %s", [l.id, l.from, l.to])
	],
}

_protected(l) if l.integrity == "mac"

loops := count([1 | some l in input.links; l.to == l.from])
"""
    ranking = field_ranking([policy])
    order = sorted(("integrity", "to", "from", "id", "medium"), key=ranking.__getitem__)
    # integrity is read on every subject (through the helper), to and from on every link (by
    # `loops`); id, from and medium also appear in messages, which only failing elements build
    assert set(order[:3]) == {"integrity", "to", "from"}
    assert set(order[3:]) == {"id", "medium"}


def test_a_field_named_only_in_a_string_is_kept() -> None:
    ranking = field_ranking(['package p\n\nx := object.get(input.deployment, "utility", null)\n'])
    assert "utility" in ranking


def test_the_slimmed_document_keeps_named_fields_in_rank_order_and_drops_the_rest() -> None:
    slimmer = Slimmer(field_ranking([POLICY]))
    doc = {
        "links": [{"id": "l1", "span": {"line": 3}, "to": "b", "medium": "rf", "encryption": "aes_128"}],
        "schema_version": 1,
    }
    slim = slimmer.document(doc)
    assert list(slim["links"][0])[:2] in (["medium", "encryption"], ["encryption", "medium"])
    assert "span" not in slim["links"][0]
    assert set(slim["links"][0]) == {"id", "to", "medium", "encryption"}
    assert slim["schema_version"] == 1


def test_the_index_maps_the_policies_name_are_kept_whole_and_the_others_dropped() -> None:
    policy = 'package p\n\nx := [i | some i in input.index.links_by_data.payment_data]\n'
    index = {"links_by_data": {"payment_data": [2], "usage_data": [0, 1]}, "devices_by_kind": {"meter": [0]}}
    slim = Slimmer(field_ranking([policy])).document({"links": [], "index": index})
    # usage_data is never named, but a policy may look a map up by a word it holds in a variable
    assert slim["index"] == {"links_by_data": {"payment_data": [2], "usage_data": [0, 1]}}
