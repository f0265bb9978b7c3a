package amisec.rules.acme_network

import rego.v1

import data.amisec.lib

# METADATA
# title: Collectors have a hot standby
# description: >-
#   ACME Power requires every collector (aggregator) to be deployed with redundancy 2 or more,
#   so that one failed collector does not cut a neighbourhood's meters off from the head end.
# custom:
#   id: ACME-NET-001
#   principle: availability
#   severity: medium
#   section: "3.1.4"
#   objective: To provide timely availability of meter data.
#   use_cases: [billing.remote_read]
#   subject: devices
#   evidence: "{n} collector fleet(s) with a hot standby: {ids}"
#   remediation: Give the collectors `redundancy 2` (or more) and deploy the standby units.
collector_standby := {
	"subjects": [i | some i; d := input.devices[i]; _collector(d)],
	"violations": [lib.violation("devices", i, sprintf("%s (%d %s) has redundancy %d; ACME requires a hot standby", [d.id, d.count, d.kind, d.redundancy]), "redundancy >= 2", d.redundancy) |
		some i
		d := input.devices[i]
		_collector(d)
		not _standby(d)
	],
}

_collector(d) if d.kind == "aggregator"

_collector(d) if d.kind == "edge_aggregator"

_standby(d) if d.redundancy >= 2
