# Diagnostics and remote configuration: authenticity, integrity, confidentiality (seed 3.1.4,
# Management of the End-to-End Lifecycle of the Metering System).
package amisec.rules.diagnostics

import rego.v1

import data.amisec.lib

# Device health reports and the operating parameters set remotely in response to them.
_management_data := ["diagnostics", "configuration"]

# Positive list, so an unknown value fails closed.
_ciphers := ["aes_128", "aes_256", "tls_1_2", "tls_1_3", "dtls", "ipsec"]


# The carried classes among `classes`, for messages. Messages that include it are assembled with
# concat, not sprintf: regopy wraps a concat result passed to sprintf("%s") in quotes.
_named(l, classes) := concat(", ", [c | some c in l.carries; c in classes])

_strong_integrity(l) if l.integrity in ["mac", "signature"]

_mutual(l) if l.authentication == "mutual"

_encrypted(l) if l.encryption in _ciphers

# Subjects, computed once and shared by the rules that examine the same elements; each rule's
# violations scan only its subjects.
_management_links := lib.listed_holding(input.index.links_by_data, _management_data, input.links, "carries")

# METADATA
# title: Diagnostic and configuration traffic is integrity-protected
# description: >-
#   Every link that carries diagnostics or remote configuration protects it with a MAC or a
#   digital signature.
# custom:
#   id: AMI-DIA-001
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: To protect diagnostic data from being manipulated, deleted or masqueraded
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying diagnostics or configuration protect it with a MAC or signature: {ids}"
#   remediation: Set the link's integrity to mac or signature.
diagnostics_integrity := {
	"subjects": _management_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature", sprintf("integrity %s", [l.integrity])) |
		links := input.links
		some i in _management_links
		l := links[i]
		not _strong_integrity(l)
		msg := concat("", [
			l.id, " carries ", _named(l, _management_data),
			sprintf(" between %s and %s with integrity %s; health reports or settings could be altered in transit", [l.from, l.to, l.integrity]),
		])
	],
}

# METADATA
# title: Diagnostic and configuration traffic is mutually authenticated
# description: >-
#   Every link that carries diagnostics or remote configuration authenticates both ends, so
#   diagnostic messages come from the device they claim and settings from the authorised manager.
# custom:
#   id: AMI-DIA-002
#   principle: access control
#   severity: high
#   section: "3.1.4"
#   objective: To validate the authenticity of the diagnostic messages being transmitted
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying diagnostics or configuration authenticate both ends: {ids}"
#   remediation: Set the link's authentication to mutual.
diagnostics_authentication := {
	"subjects": _management_links,
	"violations": [lib.violation("links", i, msg, "authentication mutual", sprintf("authentication %s", [l.authentication])) |
		links := input.links
		some i in _management_links
		l := links[i]
		not _mutual(l)
		msg := concat("", [
			l.id, " carries ", _named(l, _management_data),
			sprintf(" between %s and %s with authentication %s; a masquerading device or manager could send false diagnostics or settings", [l.from, l.to, l.authentication]),
		])
	],
}

# METADATA
# title: Diagnostic and configuration traffic is encrypted
# description: >-
#   Every link that carries diagnostics or remote configuration encrypts it, so device health and
#   operating parameters cannot be captured by an eavesdropper.
# custom:
#   id: AMI-DIA-003
#   principle: confidentiality
#   severity: medium
#   section: "3.1.4"
#   objective: To secure diagnostic data from eavesdropping or capture
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying diagnostics or configuration encrypt it: {ids}"
#   remediation: Set the link's encryption to aes_128, aes_256, tls_1_2, tls_1_3, dtls or ipsec.
diagnostics_encrypted := {
	"subjects": _management_links,
	"violations": [lib.violation("links", i, msg, "encryption other than none", sprintf("encryption %s", [l.encryption])) |
		links := input.links
		some i in _management_links
		l := links[i]
		not _encrypted(l)
		msg := concat("", [
			l.id, " carries ", _named(l, _management_data),
			sprintf(" between %s and %s with encryption %s; an eavesdropper learns device health and settings useful for an attack", [l.from, l.to, l.encryption]),
		])
	],
}
