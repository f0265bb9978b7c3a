# Integrity and authenticity of control signals and meter data (seed 3.1.2, 3.1.4).
package amisec.rules.integrity

import rego.v1

import data.amisec.lib

# Commands that switch or limit a customer's supply (billing.remote_disconnect,
# customer.prepayment, distribution.emergency_dr).
_supply_commands := ["disconnect_command", "load_limit_command"]

# Notifications the utility sends to customers (customer.demand_response,
# distribution.emergency_dr, customer.usage_access).
_notifications := ["dr_signal", "price_signal", "customer_message"]

# Every control signal whose sender must be the utility.
_control_signals := [
	"disconnect_command", "load_limit_command", "dr_signal", "price_signal",
	"der_control", "customer_message",
]

_meter_data := ["meter_reads", "usage_data", "power_quality_data"]


# The carried classes among `classes`, for messages. Messages that include it are assembled with
# concat, not sprintf: regopy wraps a concat result passed to sprintf("%s") in quotes.
_named(l, classes) := concat(", ", [c | some c in l.carries; c in classes])

# A CRC detects noise, not forgery: only a MAC or a signature protects against manipulation.
_strong_integrity := ["mac", "signature"]

_signed_by_utility(f) if input.parties[f.signed_by_idx].is_utility == true

_signer_text(f) := sprintf("signed by %s", [f.signed_by]) if f.signed_by != null

_signer_text(f) := "without a signature" if f.signed_by == null

_utility_text := sprintf("the utility %s", [input.deployment.utility]) if input.deployment.utility != null

_utility_text := "the utility (none declared)" if input.deployment.utility == null

# Subjects: the index lists, concatenated without a test (a link carrying two of the classes is
# listed twice; Python counts each subject once).
_supply_links := lib.listed(input.index.links_by_data, _supply_commands)

_notification_links := lib.listed(input.index.links_by_data, _notifications)

_der_links := input.index.links_by_data.der_control

_control_flows := lib.listed(input.index.flows_by_data, _control_signals)

_meter_data_links := lib.listed(input.index.links_by_data, _meter_data)

# Violations walk the links whose protection falls short, which a mostly compliant plan has few
# of, and test each for the data the rule is about; walking the subjects would test every link
# that carries the data. Each link is under one value of a property, so it is met once per list;
# a link met in both lists of a rule gives the same finding twice, which Python counts once. The
# collection is bound to a local name (`links[i]` is a sixth cheaper in the embedded engine than
# `input.links[i]`).
_weak_integrity := lib.listed_except(input.index.links_by_integrity, _strong_integrity)

_not_mutual := lib.listed_except(input.index.links_by_authentication, ["mutual"])

_weakly_protected := array.concat(_weak_integrity, _not_mutual)

# Flows that may not be signed by the utility: unsigned, or signed by a party of a kind other
# parties than the utility also have (`lib.utility_kinds`).
_maybe_not_utility_signed := lib.listed_except(input.index.flows_by_signed_by_kind, lib.utility_kinds)

# METADATA
# title: Connect, disconnect and load-limit commands are integrity-protected
# description: >-
#   Every link that carries disconnect or load-limit commands protects them with a MAC or a digital
#   signature. Applies wherever such commands are carried (billing.remote_disconnect,
#   customer.prepayment, distribution.emergency_dr).
# custom:
#   id: AMI-INT-001
#   principle: integrity
#   severity: critical
#   section: "3.1.4"
#   objective: >-
#     To protect integrity of connect/disconnect/limit control messages; avoiding fake messages,
#     fake senders, unintended receivers, manipulated messages
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying disconnect or load-limit commands protect them with a MAC or signature: {ids}"
#   remediation: Set the link's integrity to mac or signature.
supply_command_integrity := {
	"subjects": _supply_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature", sprintf("integrity %s", [l.integrity])) |
		links := input.links
		some i in _weak_integrity
		l := links[i]
		lib.any_of(l.carries, _supply_commands)
		msg := concat("", [
			l.id, " carries ", _named(l, _supply_commands),
			sprintf(" between %s and %s with integrity %s; a forged or altered disconnect would go unnoticed", [l.from, l.to, l.integrity]),
		])
	],
}

# METADATA
# title: Connect, disconnect and load-limit commands travel over mutually authenticated links
# description: >-
#   Every link that carries disconnect or load-limit commands authenticates both ends, so a
#   command cannot come from a fake sender or reach an unintended receiver.
# custom:
#   id: AMI-INT-002
#   principle: integrity
#   severity: critical
#   section: "3.1.4"
#   objective: >-
#     To establish a secure connection in transporting connect/disconnect/limit control messages
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying disconnect or load-limit commands authenticate both ends: {ids}"
#   remediation: Set the link's authentication to mutual.
supply_command_authentication := {
	"subjects": _supply_links,
	"violations": [lib.violation("links", i, msg, "authentication mutual", sprintf("authentication %s", [l.authentication])) |
		links := input.links
		some i in _not_mutual
		l := links[i]
		lib.any_of(l.carries, _supply_commands)
		msg := concat("", [
			l.id, " carries ", _named(l, _supply_commands),
			sprintf(" between %s and %s with authentication %s; a fake sender could switch customers off, or a command could reach the wrong device", [l.from, l.to, l.authentication]),
		])
	],
}

# METADATA
# title: Demand-response, price and customer notifications are integrity-protected
# description: >-
#   Every link that carries demand-response signals, price signals or customer messages protects
#   them with a MAC or a digital signature (customer.demand_response, distribution.emergency_dr,
#   customer.usage_access).
# custom:
#   id: AMI-INT-003
#   principle: integrity
#   severity: high
#   section: "3.1.2"
#   objective: Prevent false notifications form reaching the customer.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying customer notifications protect them with a MAC or signature: {ids}"
#   remediation: Set the link's integrity to mac or signature.
notification_integrity := {
	"subjects": _notification_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature", sprintf("integrity %s", [l.integrity])) |
		links := input.links
		some i in _weak_integrity
		l := links[i]
		lib.any_of(l.carries, _notifications)
		msg := concat("", [
			l.id, " carries ", _named(l, _notifications),
			sprintf(" between %s and %s with integrity %s; a false or altered notification would reach the customer unnoticed", [l.from, l.to, l.integrity]),
		])
	],
}

# METADATA
# title: Demand-response, price and customer notifications travel over mutually authenticated links
# description: >-
#   Every link that carries demand-response signals, price signals or customer messages
#   authenticates both ends, so only authorized systems can send them and they reach only the
#   intended devices.
# custom:
#   id: AMI-INT-004
#   principle: integrity
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that only people and/or systems that are authorized by the utility can send warnings
#     to the customer
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying customer notifications authenticate both ends: {ids}"
#   remediation: Set the link's authentication to mutual.
notification_authentication := {
	"subjects": _notification_links,
	"violations": [lib.violation("links", i, msg, "authentication mutual", sprintf("authentication %s", [l.authentication])) |
		links := input.links
		some i in _not_mutual
		l := links[i]
		lib.any_of(l.carries, _notifications)
		msg := concat("", [
			l.id, " carries ", _named(l, _notifications),
			sprintf(" between %s and %s with authentication %s; an unauthorized sender could issue warnings or prices to customers", [l.from, l.to, l.authentication]),
		])
	],
}

# METADATA
# title: Distributed-generation control is integrity-protected and mutually authenticated
# description: >-
#   Every link that carries control of distributed generation protects it with a MAC or a digital
#   signature and authenticates both ends (distribution.distributed_generation).
# custom:
#   id: AMI-INT-005
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: >-
#     To maintain integrity of AMI data being transmitted and stored to avoid manipulation and
#     deletion
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying DER control protect it with a MAC or signature and mutual authentication: {ids}"
#   remediation: Set the link's integrity to mac or signature and its authentication to mutual.
der_control_protection := {
	"subjects": _der_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature, authentication mutual", sprintf("integrity %s, authentication %s", [l.integrity, l.authentication])) |
		links := input.links
		some i in _weakly_protected
		l := links[i]
		"der_control" in l.carries
		msg := sprintf(
			"%s carries der_control between %s and %s with integrity %s and authentication %s; a forged dispatch could drive customer generation against the grid",
			[l.id, l.from, l.to, l.integrity, l.authentication],
		)
	],
}

# METADATA
# title: Control signals are signed by the utility
# description: >-
#   Every declared flow of a control signal (disconnect, load limit, demand response, price, DER
#   control, customer message) is signed by the deployment's utility, so only senders the utility
#   authorizes can issue it end to end.
# custom:
#   id: AMI-INT-006
#   principle: integrity
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that only people and/or systems that are authorized by the utility can send
#     notifications to the customer.
#   use_cases: []
#   subject: flows
#   evidence: "{n} control-signal flow(s) signed by the utility: {ids}"
#   remediation: Add `signed by <utility>` to the flow, naming the deployment's utility.
control_flow_signed_by_utility := {
	"subjects": _control_flows,
	"violations": [lib.violation("flows", i, msg, sprintf("signed by %s", [_utility_text]), _signer_text(f)) |
		flows := input.flows
		some i in _maybe_not_utility_signed
		f := flows[i]
		f.data in _control_signals
		not _signed_by_utility(f)
		msg := sprintf(
			"%s sends %s from %s to %s %s; it must be signed by %s, or the receiver cannot tell a genuine %s from a forged one",
			[f.id, f.data, f.from, f.to, _signer_text(f), _utility_text, f.data],
		)
	],
}

# METADATA
# title: Meter data is integrity-protected in transit
# description: >-
#   Every link that carries meter reads, usage data or power-quality data protects it with a MAC or
#   a digital signature, so readings cannot be altered or dropped unnoticed.
# custom:
#   id: AMI-INT-007
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: To protect meter data from manipulation or deletion.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying meter data protect it with a MAC or signature: {ids}"
#   remediation: Set the link's integrity to mac or signature.
meter_data_integrity := {
	"subjects": _meter_data_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature", sprintf("integrity %s", [l.integrity])) |
		links := input.links
		some i in _weak_integrity
		l := links[i]
		lib.any_of(l.carries, _meter_data)
		msg := concat("", [
			l.id, " carries ", _named(l, _meter_data),
			sprintf(" between %s and %s with integrity %s; readings could be altered or deleted in transit and bills would be wrong", [l.from, l.to, l.integrity]),
		])
	],
}
