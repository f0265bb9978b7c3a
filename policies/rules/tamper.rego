# Tamper indication: detection at the meter, delivery to the head end, a trustworthy source
# (seed 3.1.4, Energy Theft).
package amisec.rules.tamper

import rego.v1

import data.amisec.lib

_enabled(use_case) if use_case in input.deployment.use_cases

_sends_tamper_alerts(d) if "tamper_alert" in d.handles

_reaches_head_end(d) if d.reaches_head_end == true

# Written out rather than through the two helpers above: it runs once per meter, and each
# nested call costs the embedded engine more than the test itself.
_tamper_route_ok(d) if {
	"tamper_alert" in d.handles
	d.reaches_head_end == true
}

# Why a meter's tamper alerts cannot reach the utility, for messages.
_route_problem(d) := "none of its links carries tamper_alert" if not _sends_tamper_alerts(d)

_route_problem(d) := "it is not connected to any head end" if {
	_sends_tamper_alerts(d)
	not _reaches_head_end(d)
}

# Subjects, computed once and shared by the rules that examine the same elements; each rule's
# violations scan only its subjects, reached through the collection bound to a local name
# (`devices[i]` is a sixth cheaper in the embedded engine than `input.devices[i]`). The meter fleets
# count only when the deployment uses tamper detection.
_meters := input.index.devices_by_kind.meter if _enabled("billing.tamper_detection")

default _meters := []

_alert_links := input.index.links_by_data.tamper_alert

# Violations walk the elements that lack a protection, which a mostly compliant plan has few of,
# and test each for what the rule is about: a device with tamper detection off for being a meter,
# a link without a MAC or signature, or without mutual authentication, for carrying tamper
# alerts. A link met in both lists gives the same finding twice, which Python counts once.
_undetecting_meters := [i |
	_enabled("billing.tamper_detection")
	devices := input.devices
	some i in input.index.devices_by_tamper_detection.off
	devices[i].kind == "meter"
]

_unprotected_links := array.concat(
	lib.listed_except(input.index.links_by_integrity, ["mac", "signature"]),
	lib.listed_except(input.index.links_by_authentication, ["mutual"]),
)

# METADATA
# title: Meters detect tampering
# description: >-
#   When the deployment uses tamper detection, every meter has tamper detection switched on.
# custom:
#   id: AMI-TMP-001
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: To produce reliable tamper indication
#   use_cases: [billing.tamper_detection]
#   subject: devices
#   evidence: "{n} meter fleet(s) detect tampering: {ids}"
#   remediation: Set tamper_detection on for the meter.
meter_tamper_detection := {
	"subjects": _meters,
	"violations": [lib.violation("devices", i, msg, "tamper_detection on", "tamper_detection off") |
		devices := input.devices
		some i in _undetecting_meters
		d := devices[i]
		msg := sprintf(
			"%s (%d meter(s)) has tamper detection off; energy theft or tampering at these meters would not be indicated",
			[d.id, d.count],
		)
	],
}

# METADATA
# title: Tamper alerts from every meter reach a head end
# description: >-
#   When the deployment uses tamper detection, every meter has a link that carries tamper_alert
#   and is connected to a head end. The compiled model gives connectivity, not a route per data
#   class, so the check covers the meter's own links and its connection to a head end.
# custom:
#   id: AMI-TMP-002
#   principle: availability
#   severity: medium
#   section: "3.1.4"
#   objective: To successfully transmit and receive a tamper signal
#   use_cases: [billing.tamper_detection]
#   subject: devices
#   evidence: "{n} meter fleet(s) send tamper alerts on links toward a head end: {ids}"
#   remediation: >-
#     Connect the meter by a link that carries tamper_alert and make sure that path continues to a
#     head end.
tamper_alert_reaches_head_end := {
	"subjects": _meters,
	"violations": [lib.violation("devices", i, msg, "a link carrying tamper_alert toward a head end", _route_problem(d)) |
		devices := input.devices
		some i in _meters
		d := devices[i]
		not _tamper_route_ok(d)
		msg := sprintf("%s cannot report tampering to the utility: %s", [d.id, _route_problem(d)])
	],
}

# METADATA
# title: Tamper alerts are integrity-protected and come from an authenticated source
# description: >-
#   Every link that carries tamper alerts protects them with a MAC or a digital signature and
#   authenticates both ends, so an alert cannot be forged, suppressed by alteration, or sent by
#   an impostor.
# custom:
#   id: AMI-TMP-003
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: To securely transmit tamper signal from a non-reputable source
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying tamper alerts protect them with a MAC or signature and mutual authentication: {ids}"
#   remediation: Set the link's integrity to mac or signature and its authentication to mutual.
tamper_alert_protected := {
	"subjects": _alert_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature, authentication mutual", sprintf("integrity %s, authentication %s", [l.integrity, l.authentication])) |
		links := input.links
		some i in _unprotected_links
		l := links[i]
		"tamper_alert" in l.carries
		msg := sprintf(
			"%s carries tamper_alert between %s and %s with integrity %s and authentication %s; alerts could be forged, altered or sent by an impostor",
			[l.id, l.from, l.to, l.integrity, l.authentication],
		)
	],
}
