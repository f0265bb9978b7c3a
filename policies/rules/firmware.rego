# Integrity of firmware upgrades and device registration (seed 2.4, Installation use cases).
package amisec.rules.firmware

import rego.v1

import data.amisec.lib

# Device kinds that install firmware images delivered over AMI. Head ends, network managers and
# enterprise systems originate or relay images (often over `carries *` links); their own software
# is not delivered as firmware_image.
_firmware_targets := [
	"meter", "han_device", "customer_interface", "ems",
	"aggregator", "edge_aggregator", "distribution_automation",
]

_enabled(use_case) if use_case in input.deployment.use_cases

# A field device that a firmware_image link reaches installs what it receives. With remote
# firmware upgrades in use, every meter is a target, even one whose links are not modelled as
# carrying firmware_image: silence must not pass.
_takes_firmware(d) if {
	d.kind in _firmware_targets
	"firmware_image" in d.handles
} else := true if {
	d.kind == "meter"
	_enabled("installation.firmware_upgrade")
}


# The utility, or the owner of the device the image is for (a peer utility for its own meters).
# One definition with `else`, not several: rego-cpp evaluates every definition of a function
# (~3× the cost on each element), an `else` chain stops at the first that holds.
_authorised_signer(f) if {
	input.parties[f.signed_by_idx].is_utility == true
} else := true if {
	f.signed_by_idx != null
	f.signed_by_idx == input.devices[f.to_idx].owner_idx
}

_signer_text(f) := sprintf("signed by %s", [f.signed_by]) if f.signed_by != null

_signer_text(f) := "without a signature" if f.signed_by == null

# Subjects, computed once and shared by the rules that examine the same elements; each rule's
# violations scan only its subjects, reached through the collection bound to a local name
# (`devices[i]` is a sixth cheaper in the embedded engine than `input.devices[i]`).
# With remote upgrades every meter takes firmware: its list is taken whole, and only the devices
# of the other target kinds are tested for handling firmware images (a meter is listed twice
# when both hold; Python counts each subject once).
_firmware_devices := array.concat(_upgraded_meters, [i |
	devices := input.devices
	some i in lib.listed(input.index.devices_by_kind, _kinds_tested)
	"firmware_image" in devices[i].handles
])

_upgraded_meters := input.index.devices_by_kind.meter if _enabled("installation.firmware_upgrade")

default _upgraded_meters := []

_kinds_tested := [k | some k in _firmware_targets; k != "meter"] if {
	_enabled("installation.firmware_upgrade")
} else := _firmware_targets

_firmware_links := input.index.links_by_data.firmware_image

# Violations walk the elements that lack a protection, which a mostly compliant plan has few of,
# and test each for what the rule is about: a device running unsigned firmware for taking
# firmware updates, a link without a MAC or signature, or without mutual authentication, for
# carrying images or registrations. A link met in both lists gives the same finding twice,
# which Python counts once.
_unsigned_devices := lib.listed_except(input.index.devices_by_firmware, ["signed"])

_unprotected_links := array.concat(
	lib.listed_except(input.index.links_by_integrity, ["mac", "signature"]),
	lib.listed_except(input.index.links_by_authentication, ["mutual"]),
)

_registration_links := input.index.links_by_data.device_registration

_firmware_flows := input.index.flows_by_data.firmware_image

# METADATA
# title: Devices that take firmware updates accept only signed firmware
# description: >-
#   Every field device reached by a link that carries firmware images (meter, HAN device, customer
#   interface, EMS, aggregator, distribution automation), and every meter when the deployment uses
#   remote firmware upgrades, verifies signed firmware.
# custom:
#   id: AMI-FWR-001
#   principle: integrity
#   severity: critical
#   section: "2.4"
#   objective: Integrity of system data for registration of new devices and remote firmware upgrades
#   use_cases: []
#   subject: devices
#   evidence: "{n} device(s) that take firmware updates verify signed firmware: {ids}"
#   remediation: Set firmware signed on the device (it must verify the image's signature before installing).
firmware_signed := {
	"subjects": _firmware_devices,
	"violations": [lib.violation("devices", i, msg, "firmware signed", sprintf("firmware %s", [d.firmware])) |
		devices := input.devices
		some i in _unsigned_devices
		d := devices[i]
		_takes_firmware(d)
		msg := sprintf(
			"%s (%s) takes firmware updates but runs %s firmware; a tampered or counterfeit image would be installed",
			[d.id, d.kind, d.firmware],
		)
	],
}

# METADATA
# title: Firmware images travel over integrity-protected, mutually authenticated links
# description: >-
#   Every link that carries firmware images protects them with a MAC or a digital signature and
#   authenticates both ends, so an image cannot be altered in transit or pushed by an impostor.
# custom:
#   id: AMI-FWR-002
#   principle: integrity
#   severity: high
#   section: "2.4"
#   objective: Integrity of system data for registration of new devices and remote firmware upgrades
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying firmware images protect them with a MAC or signature and mutual authentication: {ids}"
#   remediation: Set the link's integrity to mac or signature and its authentication to mutual.
firmware_link_protected := {
	"subjects": _firmware_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature, authentication mutual", sprintf("integrity %s, authentication %s", [l.integrity, l.authentication])) |
		links := input.links
		some i in _unprotected_links
		l := links[i]
		"firmware_image" in l.carries
		msg := sprintf(
			"%s carries firmware_image between %s and %s with integrity %s and authentication %s; an altered image or one pushed by an impostor could reach the devices",
			[l.id, l.from, l.to, l.integrity, l.authentication],
		)
	],
}

# METADATA
# title: Device registration travels over integrity-protected, mutually authenticated links
# description: >-
#   Every link that carries device registration protects it with a MAC or a digital signature and
#   authenticates both ends, so a rogue device cannot register and a registration cannot be
#   altered (installation.deployment, installation.firmware_upgrade).
# custom:
#   id: AMI-FWR-003
#   principle: integrity
#   severity: high
#   section: "2.4"
#   objective: Integrity of system data for registration
#   use_cases: []
#   subject: links
#   evidence: "{n} link(s) carrying device registration protect it with a MAC or signature and mutual authentication: {ids}"
#   remediation: Set the link's integrity to mac or signature and its authentication to mutual.
registration_protected := {
	"subjects": _registration_links,
	"violations": [lib.violation("links", i, msg, "integrity mac or signature, authentication mutual", sprintf("integrity %s, authentication %s", [l.integrity, l.authentication])) |
		links := input.links
		some i in _unprotected_links
		l := links[i]
		"device_registration" in l.carries
		msg := sprintf(
			"%s carries device_registration between %s and %s with integrity %s and authentication %s; a rogue device could register or a registration be altered",
			[l.id, l.from, l.to, l.integrity, l.authentication],
		)
	],
}

# METADATA
# title: Firmware image flows are signed by the utility or the device's owner
# description: >-
#   Every declared flow of firmware images is signed by the deployment's utility or by the party
#   that owns the destination device, so only a party responsible for the device authorises what
#   it runs.
# custom:
#   id: AMI-FWR-004
#   principle: integrity
#   severity: medium
#   section: "2.4"
#   objective: Integrity of system data for registration of new devices and remote firmware upgrades
#   use_cases: []
#   subject: flows
#   evidence: "{n} firmware flow(s) signed by the utility or the device owner: {ids}"
#   remediation: Add `signed by <party>` to the flow, naming the utility or the owner of the destination device.
firmware_flow_signed := {
	"subjects": _firmware_flows,
	"violations": [lib.violation("flows", i, msg, "signed by the utility or the destination device's owner", _signer_text(f)) |
		flows := input.flows
		some i in _firmware_flows
		f := flows[i]
		not _authorised_signer(f)
		msg := sprintf(
			"%s sends firmware_image from %s to %s %s; neither the utility nor %s's owner vouches for the image",
			[f.id, f.from, f.to, _signer_text(f), f.to],
		)
	],
}
