"""A small custom policy set and deployments for tests of the evaluation pipeline.

The rules are written like built-in ones, so the tests exercise the real engine, catalog and
renderers without depending on what the built-in rules currently say.
"""
from __future__ import annotations

from pathlib import Path

RULES = '''package amisec.rules.acme

import rego.v1

import data.amisec.lib

# METADATA
# title: Device firmware is signed
# description: Unsigned firmware can be replaced by anyone who reaches the device.
# custom:
#   id: ACME-T-001
#   principle: integrity
#   severity: high
#   section: "3.1.4"
#   objective: To provide integrity of firmware.
#   use_cases: []
#   subject: devices
#   evidence: "{n} device(s) with signed firmware: {ids}"
#   remediation: Declare `firmware signed` on the device.
signed_firmware := {
	"subjects": [i | some i; input.devices[i]],
	"violations": [lib.violation("devices", i, sprintf("%s runs unsigned firmware", [d.id]), "signed", d.firmware) |
		some i
		d := input.devices[i]
		d.firmware != "signed"
	],
}

# METADATA
# title: Fleets have at least one device
# description: A fleet of zero devices describes nothing.
# custom:
#   id: ACME-T-002
#   principle: availability
#   severity: low
#   section: "3.1.1"
#   objective: Describe the deployment.
#   use_cases: [billing.remote_read]
#   subject: devices
#   evidence: "{n} fleet(s) with devices: {ids}"
#   remediation: Give the fleet a count.
fleets_not_empty := {
	"subjects": [i | some i; input.devices[i]],
	"violations": [lib.violation("devices", i, sprintf("%s has no devices", [d.id]), ">= 1", d.count) |
		some i
		d := input.devices[i]
		d.count < 1
	],
}
'''

CASES = '''ACME-T-001:
  - name: signed firmware passes
    expect: pass
    ami: |
      deployment "c" { utility acme }
      party acme "Acme" : utility
      domain field : utility_edge
      device meters : meter x 3 in field { owner acme; control acme; firmware signed }
  - name: unsigned firmware fails
    expect: fail
    subjects: [meters]
    ami: |
      deployment "c" { utility acme }
      party acme "Acme" : utility
      domain field : utility_edge
      device meters : meter x 3 in field { owner acme; control acme }
'''

HEADER = '''deployment "Mini" {
  utility acme
  use_cases billing.remote_read
}
party acme "Acme Power" : utility
domain field : utility_edge
device meters : meter x 10 in field { owner acme; control acme }
device head_end : head_end in field { owner acme; control acme; firmware signed }
link rf : meters -> head_end { carries meter_reads }
'''

WAIVER = '''waiver ACME-T-001 on meters {
  reason "Replacement \\"in progress\\""
  approved_by "CISO"
  expires 2099-01-01
}
'''


def write_policies(directory: Path, with_cases: bool = True) -> Path:
    """The custom policy directory (rules, and cases unless told otherwise)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "acme.rego").write_text(RULES, encoding="utf-8")
    if with_cases:
        (directory / "acme_cases.yaml").write_text(CASES, encoding="utf-8")
    return directory


def write_deployment(path: Path, waiver: bool = False) -> Path:
    """A small deployment: `meters` fails ACME-T-001 unless waived; `head_end` passes."""
    path.write_text(HEADER + (WAIVER if waiver else ""), encoding="utf-8")
    return path
