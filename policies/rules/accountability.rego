# Accountability: logging of central systems, non-repudiation and logging of control actions
# (seed 3.1.2, 3.1.4).
package amisec.rules.accountability

import rego.v1

import data.amisec.lib

# Systems that issue commands or hold the records of metering, billing and payment.
_record_systems := ["head_end", "mdms", "network_manager", "billing_system", "payment_system", "draacs"]

# Data classes whose delivery makes equipment act: switch or limit supply, dispatch generation,
# replace firmware, change configuration. Demand-response and price signals are left out: the
# customer may ignore them (seed 2.3), and their integrity is checked by the integrity rules.
_control_data := ["disconnect_command", "load_limit_command", "der_control", "firmware_image", "configuration"]

_control_rights := ["control", "configure"]

# Subjects, computed once and shared by the rules that examine the same elements; violations
# scan only the subjects, reached through the collection bound to a local name (`flows[i]` is a sixth
# cheaper in the embedded engine than `input.flows[i]`).
_record_system_devices := lib.listed(input.index.devices_by_kind, _record_systems)

_control_flows := lib.listed(input.index.flows_by_data, _control_data)

_tamper_alert_flows := input.index.flows_by_data.tamper_alert if _enabled("billing.tamper_detection")

# Violations of the control-command rules walk the flows that are not non-repudiated (not
# logged), which a mostly compliant plan has few of, and test each for its data; walking the
# subjects would test every control flow.
_repudiable_flows := input.index.flows_by_non_repudiation.off

_unlogged_flows := input.index.flows_by_logged.off

default _tamper_alert_flows := []

# METADATA
# title: Head ends, MDMS, network managers, billing, payment and DR systems keep logs
# description: >-
#   Every head end, meter data management system, network manager, billing system, payment
#   system and demand response system (DRAACS) has `logging on`. These systems issue the
#   commands and hold the records of the AMI; without their logs no event can be reconstructed.
# custom:
#   id: AMI-ACC-001
#   principle: accountability
#   severity: high
#   section: "3.1.4"
#   objective: To produce historical, non-reputable record of event
#   use_cases: []
#   subject: devices
#   evidence: "{n} central system(s) keep logs: {ids}"
#   remediation: Add `logging on` to the device.
record_systems_log := {
	"subjects": _record_system_devices,
	"violations": [lib.violation("devices", i, msg, "logging on", "logging off") |
		devices := input.devices
		some i in _record_system_devices
		d := devices[i]
		not _logs(d)
		msg := concat("", [
			d.id, " (", _kind(d.kind), ") keeps no log; the commands it issues and the data it handles leave no historical record to audit",
		])
	],
}

_logs(d) if d.logging == true

# METADATA
# title: Control commands are non-repudiated
# description: >-
#   Every flow of a control command (disconnect_command, load_limit_command, der_control,
#   firmware_image, configuration) has `non_repudiation on`, so its sender cannot deny having
#   made the equipment act. Demand-response and price signals are advisory (the customer may
#   ignore them, seed 2.3) and are not counted as control commands here.
# custom:
#   id: AMI-ACC-002
#   principle: accountability
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     Ensure that all communications that result in an action with equipment at a customer
#     premise is authorized, authenticated, non-repudiated, logged.
#   use_cases: []
#   subject: flows
#   evidence: "{n} control command flow(s) are non-repudiated: {ids}"
#   remediation: Add `non_repudiation on` to the flow (and sign it with `signed by PARTY`).
control_non_repudiation := {
	"subjects": _control_flows,
	"violations": [lib.violation("flows", i, msg, "non_repudiation on", "non_repudiation off") |
		flows := input.flows
		some i in _repudiable_flows
		f := flows[i]
		f.data in _control_data
		msg := sprintf(
			"flow %s sends %s from %s to %s without non-repudiation; the sender of a command that makes equipment act could deny having sent it",
			[f.id, f.data, f.from, f.to],
		)
	],
}

_non_repudiated(f) if f.non_repudiation == true

# METADATA
# title: Control commands are logged
# description: >-
#   Every flow of a control command (disconnect_command, load_limit_command, der_control,
#   firmware_image, configuration) has `logged on`, so each command leaves a historical record
#   of who made which equipment act, and when.
# custom:
#   id: AMI-ACC-003
#   principle: accountability
#   severity: high
#   section: "3.1.4"
#   objective: To produce historical, non-reputable record of event
#   use_cases: []
#   subject: flows
#   evidence: "{n} control command flow(s) are logged: {ids}"
#   remediation: Add `logged on` to the flow.
control_logged := {
	"subjects": _control_flows,
	"violations": [lib.violation("flows", i, msg, "logged on", "logged off") |
		flows := input.flows
		some i in _unlogged_flows
		f := flows[i]
		f.data in _control_data
		msg := sprintf(
			"flow %s sends %s from %s to %s without logging; the command leaves no historical record",
			[f.id, f.data, f.from, f.to],
		)
	],
}

_logged(x) if x.logged == true

_recorded(f) if {
	f.logged == true
	f.non_repudiation == true
}

# METADATA
# title: Delegations of control over utility and network assets are logged
# description: >-
#   A delegation that grants the right to control or configure devices, none of which is in a
#   premise edge domain (meters, collectors, network and head-end assets), has `logged on`, so
#   every action taken under the delegated authority leaves a record. Delegations over premise
#   equipment are checked, together with non-repudiation, by AMI-TPY-004.
# custom:
#   id: AMI-ACC-004
#   principle: accountability
#   severity: medium
#   section: "3.1.4"
#   objective: To produce historical, non-reputable record of event
#   use_cases: []
#   subject: delegations
#   evidence: "{n} delegation(s) of control over utility or network assets are logged: {ids}"
#   remediation: Add `logged on` to the delegation.
asset_delegation_logged := {
	"subjects": [i | some i; dl := input.delegations[i]; _delegates_asset_control(dl)],
	"violations": [lib.violation("delegations", i, msg, "logged on", "logged off") |
		some i
		dl := input.delegations[i]
		_delegates_asset_control(dl)
		not _logged(dl)
		msg := concat("", [
			"delegation ", dl.id, " lets ", _party_name(dl.to), " ", concat(" and ", _granted(dl)), " ",
			concat(", ", dl.over), " but is not logged; actions taken under it leave no record",
		])
	],
}

_granted(dl) := [r | some r in dl.rights; r in _control_rights]

_delegates_asset_control(dl) if {
	count(_granted(dl)) > 0
	count(dl.over_idx) > 0
	not _over_premise(dl)
}

_over_premise(dl) if {
	some j in dl.over_idx
	input.devices[j].domain_kind == "premise_edge"
}

_party_name(p) := p if p != null

_party_name(p) := "an unnamed party" if p == null

# METADATA
# title: Tamper alerts are logged and non-repudiated
# description: >-
#   Every tamper_alert flow has `logged on` and `non_repudiation on`: an alert of energy theft
#   is evidence, so its source must not be able to deny it and the event must leave a record.
# custom:
#   id: AMI-ACC-005
#   principle: accountability
#   severity: medium
#   section: "3.1.4"
#   objective: To securely transmit tamper signal from a non-reputable source
#   use_cases: [billing.tamper_detection]
#   subject: flows
#   evidence: "{n} tamper alert flow(s) are logged and non-repudiated: {ids}"
#   remediation: Add `logged on` and `non_repudiation on` to the flow.
tamper_alert_record := {
	"subjects": _tamper_alert_flows,
	"violations": [lib.violation("flows", i, msg, "logged on, non_repudiation on", actual) |
		flows := input.flows
		some i in _tamper_alert_flows
		f := flows[i]
		not _recorded(f) # the gaps are listed only for flows that have one
		gaps := array.concat(
			[x | not _logged(f); x := "is not logged"],
			[x | not _non_repudiated(f); x := "has no non-repudiation"],
		)
		actual := concat("", ["logged ", _on_off(f.logged), ", non_repudiation ", _on_off(f.non_repudiation)])
		msg := concat("", [
			"flow ", f.id, " carries tamper alerts from ", f.from, " to ", f.to, " but ", concat(" and ", gaps),
			"; an alert of tampering or theft must leave a record its source cannot deny",
		])
	],
}

_on_off(b) := "on" if b == true

_on_off(b) := "off" if b != true

# Use-case gating is repeated here (the runner also applies `use_cases`) so that the rule
# gives the same answer when an OPA server is queried directly.
_enabled(use_case) if use_case in input.deployment.use_cases

_kind(k) := replace(k, "_", " ")
