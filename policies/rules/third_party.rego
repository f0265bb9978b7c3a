# Third parties that reach premise equipment or customer data (seed 3.1.2, 3.1.3).
package amisec.rules.third_party

import rego.v1

import data.amisec.lib

# METADATA
# title: Third parties given access hold a confidentiality agreement with the utility
# description: >-
#   Every party other than the utility that receives a delegation (to monitor, control,
#   configure or read data from devices) has an agreement of kind confidentiality with the
#   deployment's utility.
# custom:
#   id: AMI-TPY-001
#   principle: confidentiality
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that all third-parties agree to some standard of data confidentiality agreement.
#   use_cases: [customer.third_party_management]
#   subject: delegations
#   evidence: "{n} delegation(s) to third parties whose receiver has a confidentiality agreement with the utility: {ids}"
#   remediation: >-
#     Add `agreement ID : confidentiality { between UTILITY, PARTY }` for the receiving party.
confidentiality_agreement := {
	"subjects": [i | some i; dl := input.delegations[i]; _to_third_party(dl)],
	"violations": [lib.violation("delegations", i, msg, "a confidentiality agreement between the receiver and the utility", "none") |
		some i
		dl := input.delegations[i]
		_to_third_party(dl)
		not _agreement_with_utility("confidentiality", dl.to_idx)
		msg := concat("", [
			"delegation ", dl.id, " gives ", _party_text(dl.to, dl.to_kind), " access to ", _list(dl.over),
			", but ", _or_none(dl.to), " has no confidentiality agreement with the utility ",
			_or_none(input.deployment.utility),
		])
	],
}

# METADATA
# title: Third parties reaching premise equipment hold a premise access agreement covering it
# description: >-
#   Every party other than the utility that receives a delegation over premise edge devices has
#   an agreement of kind premise_access with the deployment's utility whose `covers` names each
#   of those devices.
# custom:
#   id: AMI-TPY-002
#   principle: access control
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that all third-parties agree to some standard of granting access to systems which
#     allow access to monitor and control customer equipment at the premise.
#   use_cases: [customer.third_party_management]
#   subject: delegations
#   evidence: "{n} delegation(s) over premise equipment covered by a premise access agreement with the utility: {ids}"
#   remediation: >-
#     Add `agreement ID : premise_access { between UTILITY, PARTY; covers DEVICE, … }` naming
#     every premise device of the delegation.
premise_access_agreement := {
	"subjects": [i | some i; dl := input.delegations[i]; _to_third_party(dl); _over_premise(dl)],
	"violations": [lib.violation("delegations", i, msg, "every premise device covered by a premise access agreement with the utility", concat(", ", missing)) |
		some i
		dl := input.delegations[i]
		_to_third_party(dl)
		missing := [dev.id |
			some j in dl.over_idx
			dev := input.devices[j]
			dev.domain_kind == "premise_edge"
			not _access_covers(dl.to_idx, j)
		]
		count(missing) > 0
		msg := concat("", [
			"delegation ", dl.id, " gives ", _party_text(dl.to, dl.to_kind), " access to premise equipment ",
			concat(", ", missing), ", but no premise access agreement between ", _or_none(dl.to),
			" and the utility ", _or_none(input.deployment.utility), " covers it",
		])
	],
}

# METADATA
# title: Third-party access to premise equipment rests on the customer's consent
# description: >-
#   A delegation that gives a party other than the utility access to premise edge devices is
#   granted by a customer and names (`consent`) an agreement of kind customer_consent between
#   that customer and the receiving party which covers every device of the delegation.
# custom:
#   id: AMI-TPY-003
#   principle: access control
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that customers are required to agree to specific third-party access to their premise
#     gateway.
#   use_cases: [customer.third_party_management]
#   subject: delegations
#   evidence: "{n} delegation(s) over premise equipment backed by the customer's consent: {ids}"
#   remediation: >-
#     Let the customer grant the delegation (`from CUSTOMER`) and name with `consent` an
#     agreement of kind customer_consent between the customer and the receiving party that
#     covers every device in `over`.
customer_consent := {
	"subjects": [i | some i; dl := input.delegations[i]; _to_third_party(dl); _over_premise(dl)],
	"violations": [lib.violation("delegations", i, _consent_problem(dl), "customer_consent agreement between the customer and the receiver covering every device", _consent_actual(dl)) |
		some i
		dl := input.delegations[i]
		_to_third_party(dl)
		_over_premise(dl)
		not _consent_ok(dl)
	],
}

# METADATA
# title: Control of premise equipment through a delegation is logged and non-repudiated
# description: >-
#   A delegation with the right to control or configure premise edge devices has `logged on`
#   and `non_repudiation on`, so every action it permits on customer equipment leaves a record
#   its sender cannot deny.
# custom:
#   id: AMI-TPY-004
#   principle: accountability
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that all communications that result in an action with equipment at a customer
#     premise is authorized, authenticated, non-repudiated, logged.
#   use_cases: [customer.third_party_management]
#   subject: delegations
#   evidence: "{n} delegation(s) controlling premise equipment are logged and non-repudiated: {ids}"
#   remediation: Add `logged on` and `non_repudiation on` to the delegation.
delegation_accountability := {
	"subjects": [i | some i; dl := input.delegations[i]; _acts_on_premise(dl)],
	"violations": [lib.violation("delegations", i, msg, "logged on, non_repudiation on", actual) |
		some i
		dl := input.delegations[i]
		_acts_on_premise(dl)
		gaps := array.concat(
			[x | not dl.logged; x := "is not logged"],
			[x | not dl.non_repudiation; x := "has no non-repudiation"],
		)
		count(gaps) > 0
		actual := concat("", ["logged ", _on_off(dl.logged), ", non_repudiation ", _on_off(dl.non_repudiation)])
		msg := concat("", [
			"delegation ", dl.id, " lets ", _party_text(dl.to, dl.to_kind), " ", concat(" and ", _action_rights(dl)),
			" premise equipment (", _list(dl.over), ") but ", concat(" and ", gaps),
			"; every action on customer equipment is logged and non-repudiated",
		])
	],
}

# METADATA
# title: Links that carry control to premise equipment authenticate both ends
# description: >-
#   A link with an end in a premise edge domain that carries control traffic (disconnect,
#   load limit, demand response, price, DER control, configuration or firmware) uses mutual
#   authentication, so neither a fake sender nor a fake receiver can act on customer equipment.
# custom:
#   id: AMI-TPY-005
#   principle: access control
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that all communications that result in an action with equipment at a customer
#     premise is authorized, authenticated, non-repudiated, logged.
#   use_cases: [customer.third_party_management]
#   subject: links
#   evidence: "{n} link(s) carrying control to premise equipment use mutual authentication: {ids}"
#   remediation: Set `authentication mutual` on the link.
premise_control_authenticated := {
	"subjects": _premise_control_links,
	"violations": [lib.violation("links", i, msg, "authentication mutual", l.authentication) |
		links := input.links
		some i in _premise_not_mutual
		l := links[i]
		msg := concat("", [
			"link ", l.id, " (", l.from, " to ", l.to, ") carries ", _control_carried(l),
			" to premise equipment with authentication ", l.authentication,
			"; control of customer equipment needs mutual authentication",
		])
	],
}

# METADATA
# title: Links that carry control to premise equipment are encrypted and tamper-evident
# description: >-
#   A link with an end in a premise edge domain that carries control traffic is encrypted and
#   protects integrity with a MAC or a signature (a CRC does not stop deliberate tampering).
# custom:
#   id: AMI-TPY-006
#   principle: integrity
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that the communication path to a customer premise that allows control of equipment
#     is secured and tamper proof.
#   use_cases: [customer.third_party_management]
#   subject: links
#   evidence: "{n} link(s) carrying control to premise equipment are encrypted and integrity-protected: {ids}"
#   remediation: Set an `encryption` other than none and `integrity mac` or `integrity signature` on the link.
premise_control_path_secured := {
	"subjects": _premise_control_links,
	"violations": [lib.violation("links", i, msg, "encryption set; integrity mac or signature", actual) |
		links := input.links
		some i in _premise_unsecured
		l := links[i]
		gaps := array.concat(
			[x | l.encryption == "none"; x := "is not encrypted"],
			[x | not _tamper_evident(l); x := concat("", ["has integrity ", l.integrity, ", which does not detect tampering"])],
		)
		count(gaps) > 0
		actual := concat("", ["encryption ", l.encryption, ", integrity ", l.integrity])
		msg := concat("", [
			"link ", l.id, " (", l.from, " to ", l.to, ") carries ", _control_carried(l),
			" to premise equipment but ", concat(" and ", gaps),
			"; a path that allows control of customer equipment is secured and tamper proof",
		])
	],
}

# METADATA
# title: Customer data reaches a third party's device only as the customer granted
# description: >-
#   A link to a device owned by a third party carries customer data (meter reads, usage,
#   payment, prepay balance, location) only where a customer_consent or data_sharing agreement
#   between a customer and that third party lists each of those data classes in its `data`.
# custom:
#   id: AMI-TPY-007
#   principle: confidentiality
#   severity: high
#   section: "3.1.3"
#   objective: >-
#     To protect customer information. Customer grants the right to what information is
#     disseminated and to whom.
#   use_cases: [customer.third_party_management]
#   subject: links
#   evidence: "{n} link(s) carrying customer data to third-party devices, each class granted by a customer: {ids}"
#   remediation: >-
#     Add the data classes to the `data` of a customer_consent or data_sharing agreement between
#     the customer and the third party, or stop carrying them on the link.
third_party_device_data := {
	"subjects": _third_party_data_links,
	"violations": [lib.violation("links", i, msg, "every customer data class granted by a customer to the third party", concat(", ", missing)) |
		links := input.links
		some j
		i := _third_party_data_links[j]
		l := links[i]
		missing := [concat("", [c, " to ", input.parties[p].id]) |
			some p in _third_party_owners(l)
			some c in l.carries
			_is_customer_data(c)
			not _data_granted(p, c)
		]
		count(missing) > 0
		msg := concat("", [
			"link ", l.id, " (", l.from, " to ", l.to, ") carries customer data to a third party's device without the customer's grant: ",
			concat(", ", missing), "; a customer_consent or data_sharing agreement between a customer and the third party must list each class",
		])
	],
}

# METADATA
# title: Data a delegation exposes to a third party is granted by the customer
# description: >-
#   A delegation that lets a party other than the utility monitor or read data from devices
#   exposes the customer data those devices handle (from the data classes of their links:
#   meter reads, usage, payment, prepay balance, location). Each such class is listed in the
#   `data` of a customer_consent or data_sharing agreement between a customer and the receiving
#   party.
# custom:
#   id: AMI-TPY-008
#   principle: confidentiality
#   severity: high
#   section: "3.1.3"
#   objective: >-
#     To protect customer information. Customer grants the right to what information is
#     disseminated and to whom.
#   use_cases: [customer.third_party_management]
#   subject: delegations
#   evidence: "{n} delegation(s) exposing data to third parties, each customer data class granted by a customer: {ids}"
#   remediation: >-
#     List the data classes in the `data` of the consent (or a data_sharing agreement) between
#     the customer and the receiving party, or narrow the delegation's rights or devices.
delegated_data_granted := {
	"subjects": [i | some i; dl := input.delegations[i]; _to_third_party(dl); _reads(dl)],
	"violations": [lib.violation("delegations", i, msg, "every customer data class granted by a customer to the receiver", concat(", ", missing)) |
		some i
		dl := input.delegations[i]
		_to_third_party(dl)
		_reads(dl)
		missing := [concat("", [c, " from ", dev.id]) |
			some j in dl.over_idx
			dev := input.devices[j]
			some c in dev.handles
			_is_customer_data(c)
			not _data_granted(dl.to_idx, c)
		]
		count(missing) > 0
		msg := concat("", [
			"delegation ", dl.id, " lets ", _party_text(dl.to, dl.to_kind), " ", concat(" and ", [_verb(r) | some r in _read_rights(dl)]),
			" devices whose customer data no customer has granted to it: ", concat(", ", missing),
			"; the customer grants what information is disseminated and to whom",
		])
	],
}

# ---------------------------------------------------------------------------------------
# Vocabularies this family reasons about.

# Data classes that make equipment act (3.1.2: communications that result in an action).
# Functions rather than constants, so they stay out of the package's output.
_is_control(c) if c in [
	"disconnect_command", "load_limit_command", "dr_signal", "price_signal",
	"der_control", "configuration", "firmware_image",
]

# Data classes that are a customer's information (3.1.3).
_is_customer_data(c) if c in ["meter_reads", "usage_data", "payment_data", "prepay_balance", "location_data"]

# ---------------------------------------------------------------------------------------
# Delegations.

# Anyone but the deployment's own utility is a third party to the customer's premise.
_to_third_party(dl) if not _to_utility(dl)

_to_utility(dl) if {
	dl.to_idx != null
	dl.to_idx == input.deployment.utility_idx
}

# Counted, not `some`: a delegation may name many devices, and an existential with many matches
# is slow on the embedded engine.
_over_premise(dl) if count([j | some j in dl.over_idx; input.devices[j].domain_kind == "premise_edge"]) > 0

_acts_on_premise(dl) if {
	_over_premise(dl)
	count(_action_rights(dl)) > 0
}

_action_rights(dl) := [r | some r in dl.rights; r in ["control", "configure"]]

_read_rights(dl) := [r | some r in dl.rights; r in ["monitor", "read_data"]]

_reads(dl) if count(_read_rights(dl)) > 0

_verb(r) := "read data from" if {
	r == "read_data"
} else := r

_agreement_with_utility(kind, party_idx) if {
	some a in input.agreements
	a.kind == kind
	input.deployment.utility_idx in a.between_idx
	party_idx in a.between_idx
}

_access_covers(party_idx, device_idx) if {
	some a in input.agreements
	a.kind == "premise_access"
	input.deployment.utility_idx in a.between_idx
	party_idx in a.between_idx
	device_idx in a.covers_devices
}

_consent_ok(dl) if {
	dl.from_kind == "customer"
	dl.consent_kind == "customer_consent"
	dl.consent_between_ok
	dl.consent_covers
}

_consent_problem(dl) := msg if {
	dl.from_kind != "customer"
	msg := concat("", [
		"delegation ", dl.id, " over premise equipment (", _list(dl.over), ") is granted by ",
		_party_text(dl.from, dl.from_kind), ", not by the customer; the customer agrees to each third party's access",
	])
} else := msg if {
	dl.consent == null
	msg := concat("", [
		"delegation ", dl.id, " gives ", _party_text(dl.to, dl.to_kind), " access to premise equipment (",
		_list(dl.over), ") but names no customer consent (add: consent AGREEMENT)",
	])
} else := msg if {
	dl.consent_kind != "customer_consent"
	msg := concat("", [
		"delegation ", dl.id, " names ", dl.consent, " as consent, but ", dl.consent, " is a ",
		_words(dl.consent_kind), " agreement, not a customer consent",
	])
} else := msg if {
	not dl.consent_between_ok
	msg := concat("", [
		"delegation ", dl.id, " names consent ", dl.consent, ", but ", dl.consent, " is not between ",
		_or_none(dl.from), " and ", _or_none(dl.to),
	])
} else := concat("", [
	"delegation ", dl.id, " names consent ", _or_none(dl.consent), ", but ", _or_none(dl.consent),
	" does not cover every device of the delegation (", _list(dl.over), ")",
])

_consent_actual(dl) := concat("", [
	"from ", _or_none(dl.from_kind), ", consent ", _or_none(dl.consent), " (", _or_none(dl.consent_kind), ")",
])

# ---------------------------------------------------------------------------------------
# Links.

_premise_control_link(l) if {
	_touches_premise(l)
	count([c | some c in l.carries; _is_control(c)]) > 0
}

_touches_premise(l) if "premise_edge" in [l.from_domain_kind, l.to_domain_kind]

_control_carried(l) := concat(", ", [c | some c in l.carries; _is_control(c)])

_tamper_evident(l) if l.integrity in ["mac", "signature"]

_customer_data_to_third_party(l) if {
	_third_party_end(l) # two field tests first: most links have no third-party end
	count(_third_party_owners(l)) > 0
	count([c | some c in l.carries; _is_customer_data(c)]) > 0
}

_third_party_end(l) if {
	l.from_owner_kind == "third_party"
} else := true if {
	l.to_owner_kind == "third_party"
}

# Parties (indexes) owning a third-party device at either end of the link.
_third_party_owners(l) := array.concat(
	[p | l.from_owner_kind == "third_party"; p := input.devices[l.from_idx].owner_idx],
	[p | l.to_owner_kind == "third_party"; p := input.devices[l.to_idx].owner_idx],
)

# A customer has granted `party_idx` the data class `c`.
_data_granted(party_idx, c) if {
	some a in input.agreements
	a.kind in ["customer_consent", "data_sharing"]
	party_idx in a.between_idx
	"customer" in a.between_kinds
	c in a.data
}

# ---------------------------------------------------------------------------------------
# Message pieces, built with concat so every engine renders them alike.

_party_text(name, kind) := t if {
	is_string(name)
	t := concat("", [name, " (", _words(kind), ")"])
} else := "no party"

_list(ids) := t if {
	count(ids) > 0
	t := concat(", ", ids)
} else := "no devices"

_on_off(b) := "on" if {
	b == true
} else := "off"

_words(s) := replace(s, "_", " ")

_or_none(s) := s if {
	is_string(s)
	s != ""
} else := "none"

# Lists built once per evaluation and shared by a rule's subjects and violations. Each scans every
# link, so it is built only when the deployment uses third-party management (the runner also
# applies `use_cases`; repeated here so an OPA server queried directly gives the same answer).
_premise_control_links := [i | _third_party_management; some i; l := input.links[i]; _premise_control_link(l)]

_third_party_data_links := [i | _third_party_management; some i; l := input.links[i]; _customer_data_to_third_party(l)]

_third_party_management if "customer.third_party_management" in input.deployment.use_cases

# Violations of the premise control rules walk the links whose protection falls short, which a
# mostly compliant plan has few of, and test each for carrying control to premise equipment. A
# link met in both lists gives the same finding twice, which Python counts once.
_premise_not_mutual := [i |
	_third_party_management
	links := input.links
	some i in lib.listed_except(input.index.links_by_authentication, ["mutual"])
	_premise_control_link(links[i])
]

_premise_unsecured := [i |
	_third_party_management
	links := input.links
	some i in array.concat(input.index.links_by_encryption.none, lib.listed_except(input.index.links_by_integrity, ["mac", "signature"]))
	_premise_control_link(links[i])
]
