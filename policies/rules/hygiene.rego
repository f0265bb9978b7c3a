# Model hygiene: an incomplete deployment model must not pass by silence.
package amisec.rules.hygiene

import rego.v1

import data.amisec.lib

# METADATA
# title: Every link carries data
# description: >-
#   A link declares the data classes it carries (`carries …` or `carries *`). A link that
#   carries nothing escapes every rule about data in transit, so the model is incomplete.
# custom:
#   id: AMI-HYG-001
#   principle: integrity
#   severity: medium
#   section: "3.1"
#   objective: >-
#     The primary goal of this view is to identify the external points of interaction (physical
#     and logical/data) between AMI and anything outside of AMI. Once these points of
#     interaction are defined, security architecture is developed to address the concerns of
#     the stakeholders involved.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) each declare the data they carry: {ids}"
#   remediation: Add `carries CLASS, …` to the link (or remove a link that carries nothing).
link_carries_data := {
	"subjects": lib.positions(input.links),
	"violations": [lib.violation("links", i, msg, "at least one data class", "nothing") |
		some i
		l := input.links[i]
		not _carries_something(l)
		msg := concat("", [
			"link ", l.id, " (", l.from, " to ", l.to, ") carries no data class, so no rule about data in transit can judge it",
		])
	],
}

# METADATA
# title: Every device is linked
# description: >-
#   Every device has at least one link. A device with no link cannot be reached, read or
#   controlled in the model, so every rule about its communication passes by silence.
# custom:
#   id: AMI-HYG-002
#   principle: availability
#   severity: medium
#   section: "3.1"
#   objective: >-
#     The primary goal of this view is to identify the external points of interaction (physical
#     and logical/data) between AMI and anything outside of AMI. Once these points of
#     interaction are defined, security architecture is developed to address the concerns of
#     the stakeholders involved.
#   use_cases: []
#   subject: devices
#   evidence: "{n} device(s) each have at least one link: {ids}"
#   remediation: Declare the link(s) the device communicates over, or remove the device.
device_linked := {
	"subjects": lib.positions(input.devices),
	"violations": [lib.violation("devices", i, msg, "at least one link", "no link") |
		some i
		d := input.devices[i]
		not _has_link(d)
		msg := concat("", [
			d.id, " (", d.kind, " in domain ", d.domain, ") has no link, so how it communicates is not described",
		])
	],
}

# METADATA
# title: Every domain holds devices
# description: >-
#   Every declared security service domain holds at least one device. An empty domain is a
#   part of the deployment that was named but not described.
# custom:
#   id: AMI-HYG-003
#   principle: integrity
#   severity: low
#   section: "3.2"
#   objective: >-
#     This viewpoint was selected because it shows the relationship between AMI services
#     requiring security measures.
#   use_cases: []
#   subject: domains
#   evidence: "{n} domain(s) each hold at least one device: {ids}"
#   remediation: Declare the domain's devices, or remove the domain.
domain_populated := {
	"subjects": lib.positions(input.domains),
	"violations": [lib.violation("domains", i, msg, "at least one device", "no device") |
		some i
		dm := input.domains[i]
		not _populated(dm)
		msg := concat("", [replace(dm.kind, "_", " "), " domain ", dm.id, " holds no device"])
	],
}

# METADATA
# title: Every flow travels over links that carry its data
# description: >-
#   For every declared flow there is a chain of links, each carrying the flow's data class,
#   from its source device to its destination device. Otherwise the data cannot arrive as the
#   model describes, and the rules about its path judge nothing.
# custom:
#   id: AMI-HYG-004
#   principle: availability
#   severity: medium
#   section: "3.1.1"
#   objective: >-
#     Utilities provide AMI services and primary desire reliably gather information from the
#     Customer to support the availability, resiliency and survivability of the electric grid.
#   use_cases: []
#   subject: flows
#   evidence: "{n} flow(s) each have a path of links carrying their data: {ids}"
#   remediation: >-
#     Add the flow's data class to the `carries` of the links between its source and its
#     destination, or add the missing link.
flow_has_path := {
	"subjects": lib.positions(input.flows),
	"violations": [lib.violation("flows", i, msg, "a path of links carrying the data", "no path") |
		some i
		f := input.flows[i]
		not _path_found(f)
		msg := concat("", [
			"flow ", f.id, " (", f.data, " from ", f.from, " to ", f.to, ") has no path: no chain of links carrying ",
			f.data, " connects ", f.from, " to ", f.to,
		])
	],
}

# METADATA
# title: Every agreement binds at least two parties
# description: >-
#   An agreement's `between` names at least two different parties; an agreement with one
#   party (or the same party twice) binds nobody to anybody.
# custom:
#   id: AMI-HYG-005
#   principle: accountability
#   severity: medium
#   section: "3.1.1"
#   objective: >-
#     Third Parties manage AMI resources with delegated authority from the Customer or Utility
#     through an established trust relationship.
#   use_cases: []
#   subject: agreements
#   evidence: "{n} agreement(s) each bind at least two parties: {ids}"
#   remediation: Name both parties in the agreement's `between`.
agreement_parties := {
	"subjects": lib.positions(input.agreements),
	"violations": [lib.violation("agreements", i, msg, "at least two different parties", _list(a.between)) |
		some i
		a := input.agreements[i]
		not _two_parties(a)
		msg := concat("", [
			replace(a.kind, "_", " "), " agreement ", a.id, " is between ", _list(a.between),
			"; an agreement binds at least two different parties",
		])
	],
}

# METADATA
# title: Every agreement covers what its kind is about
# description: >-
#   A service contract or premise access agreement covers (`covers`) at least one device or
#   link; a data sharing agreement lists at least one data class (`data`); a customer consent
#   does either. An agreement that covers nothing satisfies no rule that asks for it to cover
#   something, and hides what was really agreed. Confidentiality agreements bind the parties as
#   a whole and need neither.
# custom:
#   id: AMI-HYG-006
#   principle: accountability
#   severity: medium
#   section: "3.1.1"
#   objective: >-
#     Third Parties manage AMI resources with delegated authority from the Customer or Utility
#     through an established trust relationship.
#   use_cases: []
#   subject: agreements
#   evidence: "{n} agreement(s) each cover the devices, links or data their kind is about: {ids}"
#   remediation: >-
#     Add `covers DEVICE_OR_LINK, …` (service contract, premise access, customer consent) or
#     `data CLASS, …` (data sharing, customer consent) to the agreement.
agreement_scope := {
	"subjects": [i | some i; a := input.agreements[i]; _scoped_kind(a.kind)],
	"violations": [lib.violation("agreements", i, msg, _scope_expected(a.kind), "covers nothing, no data") |
		some i
		a := input.agreements[i]
		_scoped_kind(a.kind)
		not _scope_ok(a)
		msg := concat("", [
			replace(a.kind, "_", " "), " agreement ", a.id, " covers nothing: it needs ", _scope_expected(a.kind),
		])
	],
}

# METADATA
# title: Every delegation names its parties, devices and rights
# description: >-
#   A delegation names who delegates (`from`) and who receives (`to`), two different parties,
#   at least one device (`over`) and at least one right (`rights`). A delegation without them
#   grants nothing the rules can check.
# custom:
#   id: AMI-HYG-007
#   principle: access control
#   severity: medium
#   section: "3.1.1"
#   objective: >-
#     Third Parties manage AMI resources with delegated authority from the Customer or Utility
#     through an established trust relationship.
#   use_cases: []
#   subject: delegations
#   evidence: "{n} delegation(s) each name two parties, devices and rights: {ids}"
#   remediation: Give the delegation `from PARTY`, `to PARTY`, `over DEVICE, …` and `rights R, …`.
delegation_complete := {
	"subjects": lib.positions(input.delegations),
	"violations": [lib.violation("delegations", i, msg, "from, to (different parties), over and rights", concat("; ", gaps)) |
		some i
		dl := input.delegations[i]
		gaps := _delegation_gaps(dl)
		count(gaps) > 0
		msg := concat("", ["delegation ", dl.id, " is incomplete: ", concat("; ", gaps)])
	],
}

# ---------------------------------------------------------------------------------------
# Positive helpers, negated by the rules so that a missing fact fails.

_carries_something(l) if count(l.carries) > 0

_has_link(d) if d.link_count > 0

_populated(dm) if dm.device_count > 0

_path_found(f) if f.path_found == true

_two_parties(a) if {
	some x in a.between_idx
	some y in a.between_idx
	x != y
}

_scoped_kind(kind) if kind in ["service_contract", "premise_access", "data_sharing", "customer_consent"]

# One definition with `else`, not several: rego-cpp evaluates every definition of a function
# (~3× the cost on each element), an `else` chain stops at the first that holds.
_scope_ok(a) if {
	a.kind in ["service_contract", "premise_access", "customer_consent"]
	count(a.covers) > 0
} else := true if {
	a.kind in ["data_sharing", "customer_consent"]
	count(a.data) > 0
}

_scope_expected("service_contract") := "covers naming at least one device or link"

_scope_expected("premise_access") := "covers naming at least one device or link"

_scope_expected("data_sharing") := "data naming at least one data class"

_scope_expected("customer_consent") := "covers naming at least one device, or data naming at least one data class"

_delegation_gaps(dl) := array.concat(
	array.concat(
		[x | not is_string(dl.from); x := "no from party"],
		[x | not is_string(dl.to); x := "no to party"],
	),
	array.concat(
		array.concat(
			[x | _same_parties(dl); x := concat("", ["delegates from ", dl.from, " to itself"])],
			[x | not _has_devices(dl); x := "no device in over"],
		),
		[x | not _has_rights(dl); x := "no rights"],
	),
)

_same_parties(dl) if {
	is_string(dl.from)
	dl.from == dl.to
}

_has_devices(dl) if count(dl.over_idx) > 0

_has_rights(dl) if count(dl.rights) > 0

_list(ids) := t if {
	count(ids) > 0
	t := concat(", ", ids)
} else := "no party"
