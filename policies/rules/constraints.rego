# Constraints of AMI technology on security services: bandwidth, processing, latency (seed 3.1.1).
package amisec.rules.constraints

import rego.v1

import data.amisec.lib

# Session protocols that open with a public-key handshake and certificate exchange (several
# kilobytes) and add a header and tag to every record or packet. Link-layer AES with a MAC
# (aes_128, aes_256, as C12.22 and ZigBee use it) has neither and is not listed.
_session_crypto := ["tls_1_2", "tls_1_3", "dtls", "ipsec"]

# Below this rate a session handshake of about 4 KB occupies the link for several seconds
# (3.4 s at 9600 bps, 13.7 s at 2400 bps) and record overhead can double a small reading.
_session_min_bps := 9600

_bandwidth_known(l) if is_number(l.bandwidth_bps)

# Subjects, computed once and shared by a rule's subjects and violations; the violations scan
# only the subjects, reached through the collection bound to a local name (`links[i]` is a sixth cheaper
# in the embedded engine than `input.links[i]`).
_session_links := [i | links := input.links; some i in _session_crypto_links; _bandwidth_known(links[i])]

# The links whose encryption is a session protocol, from the index's encryption lists: a walk over
# those links only, where testing every link's encryption cost ~10 µs a link.
_session_crypto_links := lib.listed(input.index.links_by_encryption, _session_crypto)

# METADATA
# title: Links have the bandwidth their security protocol needs
# description: >-
#   A link secured by a session protocol (TLS 1.2, TLS 1.3, DTLS or IPsec) and declaring its
#   bandwidth has at least 9600 bps. These protocols open each session with a public-key
#   handshake of about 4 KB (certificate chain included), which takes 3.4 s at 9600 bps and
#   13.7 s at 2400 bps, and add 20 to 60 bytes to every record or packet; below 9600 bps the
#   security service crowds out the data it protects, and sessions time out or are given up.
#   Links that declare no bandwidth are not judged.
# custom:
#   id: AMI-CON-001
#   principle: availability
#   severity: medium
#   section: "3.1.1"
#   objective: >-
#     Bandwidth – current technologies have limited bandwidth for providing security services
#     (examples: encryption, network management services).
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) secured by a session protocol have at least 9600 bps: {ids}"
#   remediation: >-
#     Use link-layer encryption with a MAC (aes_128 or aes_256, integrity mac) on the narrow
#     link, or give the link at least 9600 bps.
link_bandwidth_for_security := {
	"subjects": _session_links,
	"violations": [lib.violation("links", i, msg, "at least 9600 bps", sprintf("%d bps", [l.bandwidth_bps])) |
		links := input.links
		some i in _session_links
		l := links[i]
		l.bandwidth_bps < _session_min_bps
		msg := sprintf(
			"link %s (%s to %s) runs %s over only %d bps; its handshakes and per-packet overhead crowd out the data it protects",
			[l.id, l.from, l.to, l.encryption, l.bandwidth_bps],
		)
	],
}

# METADATA
# title: Processing-constrained devices are not burdened with session cryptography
# description: >-
#   A device declared `processing constrained` has no link secured by a session protocol (TLS
#   1.2, TLS 1.3, DTLS or IPsec). Their public-key handshakes take seconds on the small
#   processors of meters and HAN devices and compete with metering and control; link-layer AES
#   with a MAC keeps the data confidential and tamper-evident in transit at a fraction of the
#   cost. One finding per such link end.
# custom:
#   id: AMI-CON-002
#   principle: availability
#   severity: low
#   section: "3.1.1"
#   objective: >-
#     Processing – the rate at which a device can process information. It is important to keep
#     in mind cryptographic functions require additional processing horsepower above normal
#     processor usage.
#   use_cases: []
#   subject: devices
#   evidence: "{n} processing-constrained device(s) use only lightweight link cryptography: {ids}"
#   remediation: >-
#     Secure the device's links with aes_128 or aes_256 and integrity mac, or terminate the
#     session protocol at a less constrained device such as a collector.
constrained_device_crypto := {
	"subjects": _constrained_devices,
	"violations": _crypto_violations,
}

_constrained_devices := [i | some i; d := input.devices[i]; d.processing == "constrained"]

# Most deployments declare no constrained device: then the links need not be scanned.
_crypto_violations := [] if {
	count(_constrained_devices) == 0
} else := array.concat(
	[_crypto_violation(l.from_idx, l) |
		devices := input.devices
		links := input.links
		some i in _session_crypto_links
		l := links[i]
		devices[l.from_idx].processing == "constrained"
	],
	[_crypto_violation(l.to_idx, l) |
		devices := input.devices
		links := input.links
		some i in _session_crypto_links
		l := links[i]
		devices[l.to_idx].processing == "constrained"
	],
)

_crypto_violation(j, l) := lib.violation("devices", j, msg, "link-layer aes_128 or aes_256", l.encryption) if {
	d := input.devices[j]
	msg := sprintf(
		"%s has a constrained processor but must run %s on link %s; the public-key handshakes compete with metering and control and can stall the device",
		[d.id, l.encryption, l.id],
	)
}

# METADATA
# title: Flows arrive within their latency budget
# description: >-
#   For every flow with a latency budget (`latency D`) and a path of links carrying its data,
#   the latencies the path's links declare add up to no more than the budget. Links without a
#   declared latency add nothing, so a failure is certain whenever it is reported. Emergency
#   demand response flows of a deployment with distribution.emergency_dr are left to
#   AMI-AVL-005, which also requires every latency on their path, so one defect gives one
#   finding.
# custom:
#   id: AMI-CON-003
#   principle: availability
#   severity: medium
#   section: "3.1.1"
#   objective: >-
#     Latency – the time between when data is requested or generated and the time it is
#     received. In many cases, data is only useful if received within a specific window of time.
#   use_cases: []
#   subject: flows
#   evidence: "{n} flow(s) whose path's declared latencies fit their budget: {ids}"
#   remediation: >-
#     Route the flow over faster links, lower the latency the links declare (for example a
#     shorter reporting interval), or set a budget the service can live with.
flow_latency_budget := {
	"subjects": _budgeted_flows,
	"violations": [lib.violation("flows", i, msg, concat("", ["at most ", _secs(f.latency_s)]), _secs(f.path_latency_s)) |
		flows := input.flows
		some i in _budgeted_flows
		f := flows[i]
		f.path_latency_s > f.latency_s
		msg := concat("", [
			"flow ", f.id, " (", f.data, " from ", f.from, " to ", f.to, ") must arrive within ", _secs(f.latency_s),
			", but the declared latencies of its path (", _path_ids(f), ") add up to ", _secs(f.path_latency_s),
			_partial(f),
		])
	],
}

_budgeted_flows := [i | some i; f := input.flows[i]; _budgeted(f)]

_budgeted(f) if {
	is_number(f.latency_s)
	f.path_found
	not _emergency_dr(f)
}

# The flows AMI-AVL-005 judges (kept in step with availability.rego). The use case is looked up
# once, not once per flow.
_emergency_dr(f) if {
	_emergency_dr_enabled
	f.priority == "emergency"
	f.data in ["dr_signal", "load_limit_command"]
}

_emergency_dr_enabled if "distribution.emergency_dr" in input.deployment.use_cases

_partial(f) := "" if f.path_latency_complete

_partial(f) := ", before counting the links that declare none" if not f.path_latency_complete

# A string made by a builtin (concat, sprintf) is put into a message with concat, never
# sprintf: regopy wraps such a string passed to sprintf("%s") in quotes.
_path_ids(f) := concat(", ", [input.links[k].id | some k in f.path])

# Seconds without a trailing ".0".
_secs(x) := sprintf("%d s", [round(x)]) if {
	round(x) == x
} else := sprintf("%v s", [x])
