# Which domains an edge device may talk to directly (seed 3.2.3 and the Utility AMI Gateway, 1.6).
package amisec.rules.topology

import rego.v1

import data.amisec.lib

# METADATA
# title: Premise edge devices reach other domains only through the communication domain
# description: >-
#   A link from a premise edge device to a device in another domain ends in a communication
#   domain. A premise edge device linked straight to a head end, a network manager, an
#   enterprise system or another premise fails: those paths bypass the communication services
#   that relay and aggregate field traffic. (Links between a premise edge and a utility edge
#   device are checked by AMI-TOP-003.)
# custom:
#   id: AMI-TOP-001
#   principle: access control
#   severity: high
#   section: "3.2.3"
#   objective: >-
#     The Communication Services Domain facilitates communication between assets in adjacent
#     service domains (Utility Edge, Premise Edge, Managed Network, and Automated Network) and
#     may facilitate communication between assets within the same domain.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) from a premise edge domain end in a communication domain: {ids}"
#   remediation: >-
#     Route the premise device's traffic through a device in a communication domain (for
#     example an aggregator) instead of linking it straight to the other domain.
premise_edge_reach := {
	"subjects": _premise_leaving_links,
	"violations": [lib.violation("links", i, _bypass_message(l, "premise edge"), "the other end in a communication domain", _ends_actual(l)) |
		links := input.links
		some j
		i := _premise_leaving_links[j]
		l := links[i]
		not _touches(l, "communication")
	],
}

# METADATA
# title: Utility edge devices reach other domains only through the communication domain
# description: >-
#   A link from a utility edge device (a meter, a field device) to a device in another domain
#   ends in a communication domain. A meter linked straight to a head end, a network manager, an
#   enterprise system or another utility edge domain fails. (Links between a utility edge and a
#   premise edge device are checked by AMI-TOP-003.)
# custom:
#   id: AMI-TOP-002
#   principle: access control
#   severity: medium
#   section: "3.2.3"
#   objective: >-
#     The Communication Services Domain assumes interfaces to multiple Utility Edge and Premise
#     Edge Services Domains, and may include interfaces to multiple Managed Network and Automated
#     Network Services Domains.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) from a utility edge domain end in a communication domain: {ids}"
#   remediation: >-
#     Route the edge device's traffic through a device in a communication domain (for example a
#     collector or aggregator) instead of linking it straight to the other domain.
utility_edge_reach := {
	"subjects": _utility_edge_leaving_links,
	"violations": [lib.violation("links", i, _bypass_message(l, "utility edge"), "the other end in a communication domain", _ends_actual(l)) |
		links := input.links
		some j
		i := _utility_edge_leaving_links[j]
		l := links[i]
		not _touches(l, "communication")
	],
}

# METADATA
# title: Premise edge and utility edge meet only at a utility AMI gateway
# description: >-
#   A link between a premise edge device (a HAN device) and a utility edge device has an
#   endpoint with `role ami_gateway`: the utility AMI gateway is the one interface between the
#   AMI and the home area network, so no other field device may talk to premise equipment.
# custom:
#   id: AMI-TOP-003
#   principle: access control
#   severity: high
#   section: "1.6"
#   objective: >-
#     The logical network interface between the AMI and the HAN regardless of how that interface
#     is embodied – e.g. meter, substation, aggregator, set-top box, DSL router, WiMAX box, etc.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) between premise edge and utility edge pass through an AMI gateway: {ids}"
#   remediation: >-
#     Connect the premise device to the utility's AMI gateway (give that device `role
#     ami_gateway`), or remove the link.
edge_gateway := {
	"subjects": _edge_to_edge_links,
	"violations": [lib.violation("links", i, msg, "an endpoint with role ami_gateway", _roles_actual(l)) |
		links := input.links
		some j
		i := _edge_to_edge_links[j]
		l := links[i]
		not _has_gateway_end(l)
		msg := concat("", [
			"link ", l.id, " connects ", _end(l.from, l.from_domain_kind, l.from_domain_idx), " and ",
			_end(l.to, l.to_domain_kind, l.to_domain_idx),
			" but neither end is a utility AMI gateway; premise equipment meets the utility edge only at an AMI gateway",
		])
	],
}

# ---------------------------------------------------------------------------------------
# Link classification. Each cross-domain link touching an edge domain falls in exactly one rule.

# Whether either end of the link lies in a domain of this kind. One definition with `else`: the
# chain stops at the first end that matches, and no array of the two ends is built per link.
_touches(l, kind) if {
	l.from_domain_kind == kind
} else := true if {
	l.to_domain_kind == kind
}

# Each class of link, listed once per evaluation and shared by a rule's subjects and violations.
# The subject scans test inline: a function call per link costs more than the tests themselves.
# The ends are tested first: most links touch neither edge, and `same_domain` lies further into
# each link's fields.
_premise_leaving_links := [i |
	some i
	l := input.links[i]
	_touches(l, "premise_edge")
	not _touches(l, "utility_edge")
	not l.same_domain
]

_utility_edge_leaving_links := [i |
	some i
	l := input.links[i]
	_touches(l, "utility_edge")
	not _touches(l, "premise_edge")
	not l.same_domain
]

_edge_to_edge_links := [i |
	some i
	l := input.links[i]
	_touches(l, "premise_edge")
	_touches(l, "utility_edge")
]

_has_gateway_end(l) if "ami_gateway" in [l.from_role, l.to_role]

# Message pieces, built with concat so every engine renders them alike.
_bypass_message(l, edge) := concat("", [
	"link ", l.id, " connects ", _end(l.from, l.from_domain_kind, l.from_domain_idx), " directly to ",
	_end(l.to, l.to_domain_kind, l.to_domain_idx), "; ", edge,
	" devices reach other domains only through the communication domain",
])

_end(device, kind, domain_idx) := concat("", [device, " (", replace(kind, "_", " "), " domain ", input.domains[domain_idx].id, ")"])

_ends_actual(l) := concat("", [l.from_domain_kind, " -> ", l.to_domain_kind])

_roles_actual(l) := concat("", ["roles ", _role(l.from_role), " -> ", _role(l.to_role)])

_role(r) := r if {
	is_string(r)
} else := "none"
