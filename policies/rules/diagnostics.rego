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

# Subjects: the index lists concatenated without a test (a link carrying both classes is listed
# twice; Python counts each subject once).
_management_links := lib.listed(input.index.links_by_data, _management_data)

# Violations walk the links whose protection falls short, which a mostly compliant plan has few
# of, and test each for carrying diagnostics or configuration; walking the subjects would test
# every link that carries them.
_weak_integrity := lib.listed_except(input.index.links_by_integrity, ["mac", "signature"])

_not_mutual := lib.listed_except(input.index.links_by_authentication, ["mutual"])

_unencrypted := lib.listed_except(input.index.links_by_encryption, _ciphers)

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
		some i in _weak_integrity
		l := links[i]
		lib.any_of(l.carries, _management_data)
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
		some i in _not_mutual
		l := links[i]
		lib.any_of(l.carries, _management_data)
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
		some i in _unencrypted
		l := links[i]
		lib.any_of(l.carries, _management_data)
		msg := concat("", [
			l.id, " carries ", _named(l, _management_data),
			sprintf(" between %s and %s with encryption %s; an eavesdropper learns device health and settings useful for an attack", [l.from, l.to, l.encryption]),
		])
	],
}
