# Confidentiality of customer data and payment data, in transit and at rest (seed 3.1.2, 3.1.4).
package amisec.rules.confidentiality

import rego.v1

import data.amisec.lib

# Data classes that describe a customer or their premises.
_customer_data := ["meter_reads", "usage_data", "location_data", "customer_message"]

# Data classes of customer payments and prepaid balances.
_payment_data := ["payment_data", "prepay_balance"]

# Media that run over networks the utility shares with others; a link whose medium is not
# declared counts as public, so silence never passes.
_public_media := ["internet", "cellular", "satellite", "wifi", "wimax", "dsl"]

# Systems that keep customer records (permanent storage) rather than relay them. Head ends and
# aggregators stage data only transiently; customer-premise devices hold the customer's own data.
_record_systems := [
	"mdms", "billing_system", "payment_system", "customer_interface",
	"third_party_system", "outage_management", "draacs",
]

# Positive list, so an unknown value fails closed.
_ciphers := ["aes_128", "aes_256", "tls_1_2", "tls_1_3", "dtls", "ipsec"]


# The carried classes among `classes`, for messages. Messages that include it are assembled with
# concat, not sprintf: regopy wraps a concat result passed to sprintf("%s") in quotes.
_named(l, classes) := concat(", ", [c | some c in l.carries; c in classes])

_stored(d, classes) := concat(", ", [c | some c in d.handles; c in classes])

_authenticated := ["one_way", "mutual"]

_storage_encrypted(d) if d.storage == "encrypted"

# Subjects, computed once and shared by the rules that examine the same elements; each rule's
# violations scan only its subjects, reached through the collection bound to a local name
# (`links[i]` is a sixth cheaper in the embedded engine than `input.links[i]`).
# Link subjects are the index lists concatenated without a test (a link carrying two of the
# classes is listed twice; Python counts each subject once).
_customer_links := lib.listed(input.index.links_by_data, _customer_data)

# Links over a public medium or one not declared (`none`), tested for the data they carry.
_exposed_links := [i |
	links := input.links
	some i in lib.listed(input.index.links_by_medium, array.concat(_public_media, ["none"]))
	lib.any_of(links[i].carries, _exposed_data)
]

# The record systems are found once for both kinds of record.
_record_devices := lib.listed(input.index.devices_by_kind, _record_systems)

_customer_records := [i | devices := input.devices; some i in _record_devices; d := devices[i]; lib.any_of(d.handles, _customer_data)]

_payment_links := lib.listed(input.index.links_by_data, _payment_data)

_payment_records := [i | devices := input.devices; some i in _record_devices; d := devices[i]; lib.any_of(d.handles, _payment_data)]

# Link violations walk the links whose protection falls short, which a mostly compliant plan has
# few of, and test each for the data the rule is about; walking the subjects would test every
# link that carries the data. A link met in two lists of a rule gives the same finding twice,
# which Python counts once.
_unencrypted := lib.listed_except(input.index.links_by_encryption, _ciphers)

_weak_integrity := lib.listed_except(input.index.links_by_integrity, ["mac", "signature"])

_unprotected_exposure := array.concat(_unencrypted, lib.listed_except(input.index.links_by_authentication, _authenticated))

# METADATA
# title: Customer data is encrypted in transit
# description: >-
#   Every link that carries customer data (meter reads, usage data, location data, customer
#   messages) encrypts it, whatever the medium. Applies wherever such data is carried, including
#   the links of billing.remote_read, customer.usage_access and customer.third_party_management.
# custom:
#   id: AMI-CNF-001
#   principle: confidentiality
#   severity: high
#   section: "3.1.4"
#   objective: >-
#     To maintain privacy of customer information in transit and within temporary and permanent
#     memory storage.
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying customer data encrypt it: {ids}"
#   remediation: >-
#     Set the link's encryption to aes_128, aes_256, tls_1_2, tls_1_3, dtls or ipsec, or stop
#     carrying customer data over it.
customer_data_encrypted_in_transit := {
	"subjects": _customer_links,
	"violations": [lib.violation("links", i, msg, "encryption other than none", sprintf("encryption %s", [l.encryption])) |
		links := input.links
		some i in _unencrypted
		l := links[i]
		lib.any_of(l.carries, _customer_data)
		msg := concat("", [
			l.id, " carries ", _named(l, _customer_data),
			sprintf(" between %s and %s with encryption %s; anyone who can listen on the link can read the customers' data", [l.from, l.to, l.encryption]),
		])
	],
}

# METADATA
# title: Customer and payment data over public networks is encrypted to an authenticated peer
# description: >-
#   A link over a public or carrier network (internet, cellular, satellite, wifi, wimax, dsl, or a
#   link whose medium is not declared) that carries customer or payment data is encrypted and
#   authenticates at least its peer; encryption to an unauthenticated peer lets a man in the middle
#   read the data.
# custom:
#   id: AMI-CNF-002
#   principle: confidentiality
#   severity: high
#   section: "3.1.4"
#   objective: >-
#     To security meter data being transmitted; avoid customer’s private data being released or
#     intercepted
#   use_cases: []
#   subject: links
#   evidence: "{n} public-network link(s) carrying customer or payment data are encrypted and authenticated: {ids}"
#   remediation: >-
#     Encrypt the link (tls_1_2, tls_1_3, dtls, ipsec, aes_128 or aes_256) and authenticate the
#     peer (authentication one_way or mutual), or move the data to a private medium.
public_media_customer_data := {
	"subjects": _exposed_links,
	"violations": [lib.violation("links", i, msg, "encryption other than none and authentication one_way or mutual", sprintf("encryption %s, authentication %s", [l.encryption, l.authentication])) |
		links := input.links
		some i in _unprotected_exposure
		l := links[i]
		_public_exposed(l)
		msg := concat("", [
			l.id, " carries ", _named(l, _exposed_data),
			sprintf(" between %s and %s over %s with encryption %s and authentication %s; on a shared network the data can be intercepted", [l.from, l.to, _medium_text(l), l.encryption, l.authentication]),
		])
	],
}

_exposed_data := array.concat(_customer_data, _payment_data)

# Written out rather than through a helper per test: it runs once per link walked, and each
# nested call costs the embedded engine more than its test.
_public_exposed(l) if {
	lib.any_of(l.carries, _exposed_data)
	_public(l.medium)
}

# One definition with `else`, not several: rego-cpp evaluates every definition of a function
# (~3× the cost on each element), an `else` chain stops at the first that holds.
_public(medium) if {
	medium in _public_media
} else := true if {
	medium == null
}

_medium_text(l) := l.medium if l.medium != null

_medium_text(l) := "an undeclared medium" if l.medium == null

# METADATA
# title: Systems of record encrypt stored customer data
# description: >-
#   Every system that keeps customer records (MDMS, billing, payment, customer interface, third-party
#   system, outage management, DRAACS) and handles customer data stores it encrypted.
# custom:
#   id: AMI-CNF-003
#   principle: confidentiality
#   severity: high
#   section: "3.1.4"
#   objective: >-
#     To maintain privacy of customer information in transit and within temporary and permanent
#     memory storage.
#   use_cases: []
#   subject: devices
#   evidence: "{n} system(s) of record holding customer data encrypt their storage: {ids}"
#   remediation: Set the device's storage to encrypted.
customer_data_at_rest := {
	"subjects": _customer_records,
	"violations": [lib.violation("devices", i, msg, "storage encrypted", sprintf("storage %s", [d.storage])) |
		devices := input.devices
		some i in _customer_records
		d := devices[i]
		not _storage_encrypted(d)
		msg := concat("", [
			sprintf("%s (%s) keeps ", [d.id, d.kind]), _stored(d, _customer_data),
			sprintf(" in %s storage; a stolen disk or backup exposes customer records", [d.storage]),
		])
	],
}

# METADATA
# title: Payment data is encrypted in transit
# description: >-
#   Every link that carries payment data or prepaid balances encrypts it. Applies wherever such data
#   is carried, in particular for customer.prepayment.
# custom:
#   id: AMI-CNF-004
#   principle: confidentiality
#   severity: critical
#   section: "3.1.4"
#   objective: >-
#     To provide confidentiality to customer payment and associated information; avoid eavesdropping,
#     interception or collection of customer data stored (temporary or permanent) or in transit
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying payment data encrypt it: {ids}"
#   remediation: >-
#     Set the link's encryption to aes_128, aes_256, tls_1_2, tls_1_3, dtls or ipsec, or stop
#     carrying payment data over it.
payment_data_encrypted_in_transit := {
	"subjects": _payment_links,
	"violations": [lib.violation("links", i, msg, "encryption other than none", sprintf("encryption %s", [l.encryption])) |
		links := input.links
		some i in _unencrypted
		l := links[i]
		lib.any_of(l.carries, _payment_data)
		msg := concat("", [
			l.id, " carries ", _named(l, _payment_data),
			sprintf(" between %s and %s with encryption %s; payment details can be read in transit", [l.from, l.to, l.encryption]),
		])
	],
}

# METADATA
# title: Systems of record encrypt stored payment data
# description: >-
#   Every system that keeps customer records and handles payment data or prepaid balances stores
#   them encrypted.
# custom:
#   id: AMI-CNF-005
#   principle: confidentiality
#   severity: critical
#   section: "3.1.4"
#   objective: >-
#     To provide confidentiality to customer payment and associated information; avoid eavesdropping,
#     interception or collection of customer data stored (temporary or permanent) or in transit
#   use_cases: []
#   subject: devices
#   evidence: "{n} system(s) of record holding payment data encrypt their storage: {ids}"
#   remediation: Set the device's storage to encrypted.
payment_data_at_rest := {
	"subjects": _payment_records,
	"violations": [lib.violation("devices", i, msg, "storage encrypted", sprintf("storage %s", [d.storage])) |
		devices := input.devices
		some i in _payment_records
		d := devices[i]
		not _storage_encrypted(d)
		msg := concat("", [
			sprintf("%s (%s) keeps ", [d.id, d.kind]), _stored(d, _payment_data),
			sprintf(" in %s storage; a stolen disk or backup exposes customers' payment details", [d.storage]),
		])
	],
}

# METADATA
# title: Payment data is integrity-protected in transit
# description: >-
#   Every link that carries payment data or prepaid balances protects it with a MAC or a digital
#   signature, so a balance or payment cannot be altered on the way (a CRC detects noise, not
#   forgery).
# custom:
#   id: AMI-CNF-006
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: >-
#     To provide integrity of data being transmitted including non-repudiation and validation of
#     customer information transmitted
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying payment data protect its integrity with a MAC or signature: {ids}"
#   remediation: Set the link's integrity to mac or signature.
payment_data_integrity := {
	"subjects": _payment_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature", sprintf("integrity %s", [l.integrity])) |
		links := input.links
		some i in _weak_integrity
		l := links[i]
		lib.any_of(l.carries, _payment_data)
		msg := concat("", [
			l.id, " carries ", _named(l, _payment_data),
			sprintf(" between %s and %s with integrity %s; an altered payment or balance would go unnoticed", [l.from, l.to, l.integrity]),
		])
	],
}
