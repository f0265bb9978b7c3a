package amisec.rules.availability

import rego.v1

import data.amisec.lib

# METADATA
# title: Meters and edge devices reach a head end
# description: >-
#   Every meter, and every other device in a utility edge or premise edge domain that has a
#   link, is connected by some path of links to a head end. A device with no such path cannot
#   deliver its reads or alerts, nor receive commands. Edge devices other than meters that have
#   no link at all are left to the model hygiene rules, which flag unlinked devices.
# custom:
#   id: AMI-AVL-001
#   principle: availability
#   severity: high
#   section: "3.1.1"
#   objective: >-
#     Utilities provide AMI services and primary desire reliably gather information from the
#     Customer to support the availability, resiliency and survivability of the electric grid.
#   use_cases: []
#   subject: devices
#   evidence: "{n} meter and edge device fleet(s) reach a head end: {ids}"
#   remediation: >-
#     Add the links (for example to a collector or to an AMI gateway meter) that connect the
#     device to a head end.
edge_reaches_head_end := {
	"subjects": _head_end_dependants,
	"violations": [lib.violation(
		"devices", i,
		concat("", [_fleet(d), " is not connected by any path of links to a head end, so its data is never collected and it cannot be commanded"]),
		"a path of links to a head end",
		"no path to any head end",
	) |
		devices := input.devices
		some j
		i := _head_end_dependants[j]
		d := devices[i]
		not d.reaches_head_end
	],
}

# One definition with `else`, not several: rego-cpp evaluates every definition of a function
# (~3× the cost on each element), an `else` chain stops at the first that holds.
_needs_head_end(d) if {
	d.kind == "meter"
} else := true if {
	d.kind != "meter"
	d.domain_kind in ["utility_edge", "premise_edge"]
	d.link_count > 0
}

# METADATA
# title: No single point of failure between meters and the head end
# description: >-
#   A device that lies on every path from a meter fleet to the head end (the compiler's
#   head_end_cut) and is a single unit (count 1) without redundancy (redundancy below 2) is a
#   single point of failure: losing it cuts the whole fleet off. A single head end with
#   redundancy 1 counts. The finding is reported on the failing device and names the fleet
#   that depends on it.
# custom:
#   id: AMI-AVL-002
#   principle: availability
#   severity: high
#   section: "2.5"
#   objective: >-
#     System Use Case 1 explores how the AMI system responds and recovers to individual
#     component failures, communications failures, and broader outages/disasters.
#   use_cases: [system.recovery]
#   subject: devices
#   evidence: "{n} meter fleet(s) reach the head end without a single unredundant device on every path: {ids}"
#   remediation: >-
#     Give the device redundancy 2 or more (a standby unit), deploy it as a fleet of several
#     units, or add an alternative path that bypasses it.
no_single_point_of_failure := {
	"subjects": _networked_meters,
	"violations": [lib.violation(
		"devices", j,
		concat("", [
			_fleet(d), " reach the head end only through ", s.id, ", a single ", _kind(s), " with redundancy ",
			format_int(s.redundancy, 10), "; losing it cuts the fleet off from every head end",
		]),
		"no single unit without redundancy on every path to the head end",
		sprintf("%s: count 1, redundancy %d, on every path of %s", [s.id, s.redundancy, d.id]),
	) |
		devices := input.devices
		some k
		i := _networked_meters[k]
		d := devices[i]
		some j in d.head_end_cut
		_single_unit[j]
		j != i
		s := devices[j]
	],
}

# Per device position, whether it is a single unit without redundancy: worked out once per
# device rather than once per meter fleet and device on its paths.
_single_unit := [single |
	some s in input.devices
	single := _unredundant_single(s)
]

_unredundant_single(s) if {
	s.count == 1
	s.redundancy < 2
} else := false


# METADATA
# title: Head ends are redundant
# description: >-
#   When the deployment plans for system recovery, every head end has a standby (redundancy 2
#   or more) or is deployed as several units, so the failure of one head end does not stop
#   collection and control for the whole system.
# custom:
#   id: AMI-AVL-003
#   principle: availability
#   severity: high
#   section: "2.5"
#   objective: Recover from AMI component and telecommunications failures
#   use_cases: [system.recovery]
#   subject: devices
#   evidence: "{n} head end(s) with redundancy 2 or more: {ids}"
#   remediation: Declare redundancy 2 or more on the head end (a standby site) or deploy several head ends.
head_end_redundancy := {
	"subjects": _head_ends,
	"violations": [lib.violation(
		"devices", i,
		sprintf("%s is a single head end with redundancy %d; a failure of it stops collection and control for the whole system until it is repaired", [d.id, d.redundancy]),
		"redundancy 2 or more",
		sprintf("redundancy %d, count %d", [d.redundancy, d.count]),
	) |
		devices := input.devices
		some j
		i := _head_ends[j]
		d := devices[i]
		not _redundant(d)
	],
}

_head_ends := input.index.devices_by_kind.head_end if _enabled("system.recovery")

default _head_ends := []

_redundant(d) if {
	d.redundancy >= 2
} else := true if {
	d.count >= 2
}

# METADATA
# title: Meters have a link that carries meter reads
# description: >-
#   For remote reads, every linked meter has at least one link that carries meter_reads.
#   A meter whose links carry only other data classes has no declared way to deliver its
#   reads. Only the meter's own links are examined; whether the classes are carried all the
#   way to the head end is checked through flows.
# custom:
#   id: AMI-AVL-004
#   principle: availability
#   severity: medium
#   section: "3.1.4"
#   objective: To provide timely availability of meter data.
#   use_cases: [billing.remote_read]
#   subject: devices
#   evidence: "{n} meter fleet(s) with a link that carries meter_reads: {ids}"
#   remediation: Add meter_reads to the `carries` list of the link that connects the meter towards the head end.
meter_reads_carried := {
	"subjects": _read_meters,
	"violations": [lib.violation(
		"devices", i,
		concat("", [_fleet(d), " has links, but none of them carries meter_reads, so its reads cannot be delivered"]),
		"a link carrying meter_reads",
		concat("", ["its links carry ", _list(d.handles)]),
	) |
		devices := input.devices
		some j
		i := _read_meters[j]
		d := devices[i]
		not "meter_reads" in d.handles
	],
}

# METADATA
# title: Emergency demand response arrives within a minute
# description: >-
#   With emergency demand response, every emergency-priority dr_signal or load_limit_command
#   flow (the signals distribution use case 1 sends) declares a latency budget of at most
#   60 s, the seed's "minute to sub-minute notices", and the latencies of the links on its path
#   add up to no more than that budget. A link on the path without a declared latency makes
#   the path latency unknown, and an unknown latency fails: it cannot show the notice arrives in
#   time.
# custom:
#   id: AMI-AVL-005
#   principle: availability
#   severity: high
#   section: "3.1.2"
#   objective: >-
#     There are two levels of advanced warning which are envisioned for AMI demand response
#     systems as outlined in Distribution Use Case 2. The first being predicted energy
#     shortages—a few hours notice in advanced—and the emergency shortages—minute to sub-minute
#     notices.
#   use_cases: [distribution.emergency_dr]
#   subject: flows
#   evidence: "{n} emergency demand response flow(s) with a budget of at most 60 s that their path meets: {ids}"
#   remediation: >-
#     Give the flow `latency 60s` or less, declare `latency` on every link of its path, and use
#     links fast enough that the path fits the budget.
emergency_dr_latency := {
	"subjects": _emergency_dr_flows,
	"violations": [lib.violation("flows", i, concat("", ["emergency flow ", f.id, ": ", _edr_problem(f)]), "a budget of at most 60 s that the path's declared latencies meet", _latencies(f)) |
		flows := input.flows
		some j
		i := _emergency_dr_flows[j]
		f := flows[i]
		not _edr_in_time(f)
	],
}

# AMI-CON-003 leaves these flows to this rule: keep constraints.rego in step.
_emergency_dr_flows := [i |
	_enabled("distribution.emergency_dr")
	flows := input.flows
	some i in lib.listed(input.index.flows_by_data, ["dr_signal", "load_limit_command"])
	flows[i].priority == "emergency"
]

_edr_in_time(f) if {
	is_number(f.latency_s)
	f.latency_s <= 60
	f.path_found
	f.path_latency_complete
	f.path_latency_s <= f.latency_s
}

_edr_problem(f) := "the emergency signal declares no latency budget, so nothing shows it arrives within a minute" if {
	not is_number(f.latency_s)
} else := concat("", ["the latency budget of ", _secs(f.latency_s), " is longer than the minute an emergency shortage allows"]) if {
	f.latency_s > 60
} else := "no path of links carries the signal, so it never arrives" if {
	not f.path_found
} else := concat("", ["the latency of its path (", _path_ids(f), ") is unknown because a link on it declares no latency, so nothing shows the notice arrives in time"]) if {
	not f.path_latency_complete
} else := concat("", ["its path (", _path_ids(f), ") takes ", _secs(f.path_latency_s), ", more than its budget of ", _secs(f.latency_s)])

# METADATA
# title: Connect, disconnect and limit commands have a latency budget
# description: >-
#   Every disconnect_command and load_limit_command flow declares a latency budget, the
#   time within which the command must reach the meter. Without one the timeliness of the
#   service is unstated and cannot be checked against the path (AMI-CON-003 does that check).
# custom:
#   id: AMI-AVL-006
#   principle: availability
#   severity: medium
#   section: "3.1.4"
#   objective: To establish timely connectivity to connect/disconnect/limit service
#   use_cases: [billing.remote_disconnect]
#   subject: flows
#   evidence: "{n} connect/disconnect/limit flow(s) with a latency budget: {ids}"
#   remediation: Add `latency D` to the flow with the time within which the command must take effect.
disconnect_latency_budget := {
	"subjects": _switching_flows,
	"violations": [lib.violation(
		"flows", i,
		sprintf("%s sends %s to %s without a latency budget, so nothing states or checks how quickly service is switched", [f.id, f.data, f.to]),
		"a latency budget",
		"no latency",
	) |
		flows := input.flows
		some j
		i := _switching_flows[j]
		f := flows[i]
		not is_number(f.latency_s)
	],
}

_switching_flows := lib.listed(input.index.flows_by_data, ["disconnect_command", "load_limit_command"]) if {
	_enabled("billing.remote_disconnect")
}

default _switching_flows := []

# METADATA
# title: Disconnect commands go to devices that can act on them
# description: >-
#   Every disconnect_command flow ends at a device with `remote_disconnect on`. A command sent to
#   a device without a remote service switch never takes effect, so the connect / disconnect
#   service the plan relies on does not exist; an absent line counts as off. (Load-limit
#   commands may go to energy management systems that curtail load without a switch.)
# custom:
#   id: AMI-AVL-008
#   principle: availability
#   severity: high
#   section: "3.1.4"
#   objective: To establish timely connectivity to connect/disconnect service
#   use_cases: []
#   subject: flows
#   evidence: "{n} disconnect flow(s) end at devices with a remote switch: {ids}"
#   remediation: >-
#     Add `remote_disconnect on` to the destination device if it has a service switch, or send the
#     command to the devices that do.
disconnect_reaches_switch := {
	"subjects": _disconnect_flows,
	"violations": [lib.violation("flows", i, _no_switch_message(f, d), "remote_disconnect on at the destination", "remote_disconnect off") |
		flows := input.flows
		devices := input.devices
		some j
		i := _disconnect_flows[j]
		f := flows[i]
		d := devices[f.to_idx]
		not d.remote_disconnect
	],
}

_disconnect_flows := input.index.flows_by_data.disconnect_command

_no_switch_message(f, d) := concat("", [
	f.id, " sends ", f.data, " to ", d.id, " (", d.kind,
	"), which has no remote disconnect switch (remote_disconnect off); the command can never take effect",
])

# METADATA
# title: Demand response signals are prioritised
# description: >-
#   Every dr_signal flow has priority high or emergency, so that it is not queued behind bulk
#   traffic (interval reads, firmware images) when the network is over-subscribed. A declared
#   link bandwidth alone is not accepted as evidence: it states capacity, not headroom for the
#   signal when that capacity is exhausted.
# custom:
#   id: AMI-AVL-007
#   principle: availability
#   severity: medium
#   section: "3.1.2"
#   objective: >-
#     Ensure that the system is resilient to periods of over-subscribed network utilization,
#     especially in the case of emergency shortages.
#   use_cases: [customer.demand_response, distribution.emergency_dr]
#   subject: flows
#   evidence: "{n} demand response flow(s) with high or emergency priority: {ids}"
#   remediation: Give the flow `priority high`, or `priority emergency` for emergency shortages.
dr_signal_priority := {
	"subjects": _dr_signal_flows,
	"violations": [lib.violation(
		"flows", i,
		sprintf("%s sends dr_signal at normal priority; when the network is over-subscribed it waits behind meter reads and firmware downloads and may arrive too late", [f.id]),
		"priority high or emergency",
		sprintf("priority %s", [f.priority]),
	) |
		flows := input.flows
		some j
		i := _dr_signal_flows[j]
		f := flows[i]
		not f.priority in ["high", "emergency"]
	],
}

_dr_signal_flows := input.index.flows_by_data.dr_signal if _dr_enabled

default _dr_signal_flows := []

_dr_enabled if _enabled("customer.demand_response")

_dr_enabled if _enabled("distribution.emergency_dr")

# Use-case gating is repeated here (the runner also applies `use_cases`) so that the rule
# gives the same answer when an OPA server is queried directly.
_enabled(use_case) if use_case in input.deployment.use_cases

_fleet(d) := concat("", [d.id, " (", format_int(d.count, 10), " ", _kind(d), " devices)"]) if d.count > 1

_fleet(d) := concat("", [d.id, " (", _kind(d), ")"]) if d.count <= 1

_kind(d) := replace(d.kind, "_", " ")

# A string made by a builtin (concat, replace, format_int) is put into a message with concat,
# never sprintf: regopy wraps such a string passed to sprintf("%s") in quotes.
_list(xs) := "nothing" if count(xs) == 0

_list(xs) := concat(", ", xs) if count(xs) > 0

_path_ids(f) := concat(", ", [input.links[k].id | some k in f.path])

_latencies(f) := concat("", [_budget(f), ", path latency ", _secs(f.path_latency_s), _completeness(f)])

_budget(f) := concat("", ["budget ", _secs(f.latency_s)]) if is_number(f.latency_s)

_budget(f) := "no budget" if not is_number(f.latency_s)

_completeness(f) := "" if f.path_latency_complete

_completeness(f) := " (some links declare no latency)" if not f.path_latency_complete

# Seconds without a trailing ".0"; "unknown" for null.
_secs(x) := sprintf("%d s", [round(x)]) if {
	is_number(x)
	round(x) == x
} else := sprintf("%v s", [x]) if {
	is_number(x)
} else := "unknown"

# Lists built once per evaluation and shared by a rule's subjects and violations.
_head_end_dependants := [i | some i; d := input.devices[i]; _needs_head_end(d)]

_networked_meters := [i | _enabled("system.recovery"); devices := input.devices; some i in input.index.devices_by_kind.meter; devices[i].reaches_head_end]

_read_meters := [i | _enabled("billing.remote_read"); devices := input.devices; some i in input.index.devices_by_kind.meter; devices[i].link_count > 0]
