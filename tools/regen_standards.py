"""Regenerate the standards catalogs (standards/*.yaml) from the standards reference.

The reference (tests/data/standards-reference.yaml, a frozen copy of the research catalog) is the
only source of control ids and titles. Each catalog copies id, title, principles, source and the
confirmed flag (as `verified`) of every control in the reference sections it draws from, so a
catalog can never hold a control the reference does not list.

Usage (from the project root):
    python tools/regen_standards.py [REFERENCE_YAML]

The mapping (standards/mapping.yaml) is written by hand and is not touched.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = ROOT / "tests" / "data" / "standards-reference.yaml"
OUT_DIR = ROOT / "standards"

NISTIR_FAMILIES = "NISTIR 7628 Rev. 1 (requirement families)"
NISTIR_REQUIREMENTS = "NISTIR 7628 Rev. 1 (high-level security requirements)"
NISTIR_LICS = "NISTIR 7628 Rev. 1 (logical interface categories)"

# Catalog headers. `sections` names the reference sections each catalog draws its controls from.
CATALOGS: list[dict] = [
    {
        "key": "nist_800_53",
        "name": "NIST SP 800-53 Rev. 5",
        "title": "Security and Privacy Controls for Information Systems and Organizations",
        "version": "Revision 5 (control titles from NIST's OSCAL catalogs, releases 5.1.1 and 5.0.1)",
        "note": "Selected controls relevant to AMI.",
        "sections": ["NIST SP 800-53 Rev. 5"],
    },
    {
        "key": "iec_62443",
        "name": "IEC 62443-3-3",
        "title": (
            "Industrial communication networks – Network and system security – "
            "Part 3-3: System security requirements and security levels"
        ),
        "version": "IEC 62443-3-3:2013",
        "note": (
            "Foundational requirements (FR) and system requirements (SR); ids and names only, "
            "the normative text is not reproduced."
        ),
        "sections": ["IEC 62443-3-3:2013"],
    },
    {
        "key": "nerc_cip",
        "name": "NERC CIP",
        "title": "NERC Critical Infrastructure Protection (CIP) Reliability Standards",
        "version": "Currently enforceable US versions (the version suffix is part of each id)",
        "note": (
            "NERC CIP applies to BES Cyber Systems. Typical AMI (distribution metering) is outside "
            "CIP scope unless an asset meets the CIP-002 Attachment 1 criteria (e.g. a UFLS/UVLS "
            "scheme shedding 300 MW or more); for most AMI deployments CIP is cited as comparable "
            "good practice, not as a compliance obligation."
        ),
        "sections": ["NERC CIP"],
    },
    {
        "key": "iec_62351",
        "name": "IEC 62351",
        "title": (
            "Power systems management and associated information exchange – "
            "Data and communications security"
        ),
        "version": "IEC 62351 series (each part cited at part level; editions vary by part)",
        "note": "Parts of the series; titles marked unverified are not yet confirmed verbatim.",
        "sections": ["IEC 62351"],
    },
    {
        "key": "pci_dss",
        "name": "PCI DSS v4.0.1",
        "title": "Payment Card Industry Data Security Standard",
        "version": "v4.0.1 (June 2024)",
        "note": (
            "The 12 principal requirements and selected sub-requirements; applies where the "
            "deployment handles payment-card data (customer prepayment)."
        ),
        "sections": ["PCI DSS v4.0.1"],
    },
    {
        "key": "nistir_7628",
        "name": "NISTIR 7628 Rev. 1",
        "title": (
            "Guidelines for Smart Grid Cybersecurity, Volume 1 – Smart Grid Cybersecurity "
            "Strategy, Architecture, and High-Level Requirements"
        ),
        "version": "NISTIR 7628 Revision 1 (September 2014)",
        "note": (
            "Requirement families, AMI-relevant high-level security requirements and logical "
            "interface categories. None of these ids or titles has been checked against the "
            "published document yet: every control is marked unverified."
        ),
        "sections": [NISTIR_FAMILIES, NISTIR_REQUIREMENTS, NISTIR_LICS],
    },
]


# The NISTIR 7628 rows were not checked against the published text; the catalog cites the
# publication and says so, instead of the reference's account of how far its checking got.
NISTIR_SOURCE = (
    "NISTIR 7628 Rev. 1, Vol. 1, {part} (https://doi.org/10.6028/NIST.IR.7628r1); "
    "id and title not yet checked against the published text"
)

# Reference notes about requirement topics (R1, R2, …) that the catalogs do not carry.
OMIT_NOTES = {"CIP-005-7"}


def _note(entry: dict) -> str:
    """The reference's remarks on one control (and, for NERC CIP, its US effective date)."""
    parts = []
    if entry.get("effective_us"):
        parts.append(f"US effective: {entry['effective_us']}.")
    if entry.get("notes") and entry["id"] not in OMIT_NOTES:
        parts.append(str(entry["notes"]))
    return " ".join(parts)


def _source(entry: dict) -> str:
    if entry["_section"] == NISTIR_LICS:
        return NISTIR_SOURCE.format(part="section 2.3 (logical interface categories)")
    if entry["_section"].startswith("NISTIR 7628"):
        return NISTIR_SOURCE.format(part="chapter 3")
    return entry["source"]


def _control(entry: dict) -> dict:
    control = {
        "id": entry["id"],
        "title": entry["title"],
        "principles": list(entry.get("principles") or []),
        "verified": bool(entry["confirmed"]),
        "source": _source(entry),
    }
    note = _note(entry)
    if note:
        control["note"] = note
    return control


def _nistir_order(entries: list[dict]) -> list[dict]:
    """Each family followed by its requirements (reference order kept), then the LICs."""
    families = [e for e in entries if e["_section"] == NISTIR_FAMILIES]
    requirements = [e for e in entries if e["_section"] == NISTIR_REQUIREMENTS]
    rest = [e for e in entries if e["_section"] not in (NISTIR_FAMILIES, NISTIR_REQUIREMENTS)]
    ordered = []
    for family in families:
        ordered.append(family)
        ordered.extend(r for r in requirements if r["id"].split("-")[0] == family["id"])
    placed = {e["id"] for e in ordered}
    ordered.extend(r for r in requirements if r["id"] not in placed)
    return ordered + rest


def build_catalog(header: dict, reference: dict) -> dict:
    """One catalog document: the header plus the controls of the reference sections it names."""
    entries = [
        dict(entry, _section=section)
        for section in header["sections"]
        for entry in reference["standards"][section]
    ]
    if header["key"] == "nistir_7628":
        entries = _nistir_order(entries)
    doc = {k: header[k] for k in ("key", "name", "title", "version", "note")}
    doc["controls"] = [_control(e) for e in entries]
    return doc


def render(doc: dict, sections: list[str]) -> str:
    """YAML text of one catalog with a header comment saying where it comes from."""
    comment = f"# {doc['name']} — control catalog, generated by tools/regen_standards.py\n"
    comment += "# from these sections of the standards reference:\n"
    comment += "".join(f"#   - {s}\n" for s in sections)
    comment += "# Do not edit by hand.\n"
    body = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    return comment + body


def main(argv: list[str]) -> int:
    reference_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_REFERENCE
    reference = yaml.safe_load(reference_path.read_text(encoding="utf-8"))
    for header in CATALOGS:
        doc = build_catalog(header, reference)
        out = OUT_DIR / f"{header['key']}.yaml"
        out.write_text(render(doc, header["sections"]), encoding="utf-8")
        print(f"{out.relative_to(ROOT)}: {len(doc['controls'])} controls")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
