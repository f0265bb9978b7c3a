"""Standards catalogs and the rule → controls mapping.

The catalogs must reproduce the standards reference exactly (ids, titles, confirmed flags) and
hold nothing else; the mapping may name only controls the catalogs hold, and every rule must
meet the mapping minimum. The reference is read from the frozen copy in tests/data so these
tests run from a clean clone.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from amisec import standards
from amisec.standards import catalog as catalog_module
from amisec.standards import table as table_module

ROOT = Path(__file__).resolve().parent.parent
FROZEN_REFERENCE = ROOT / "tests" / "data" / "standards-reference.yaml"
SHARED_REFERENCE = ROOT.parent / "shared" / "standards-reference.yaml"
RULES_DIR = ROOT / "policies" / "rules"

# The reference sections each catalog is drawn from.
SECTIONS = {
    "nist_800_53": ["NIST SP 800-53 Rev. 5"],
    "iec_62443": ["IEC 62443-3-3:2013"],
    "nerc_cip": ["NERC CIP"],
    "iec_62351": ["IEC 62351"],
    "pci_dss": ["PCI DSS v4.0.1"],
    "nistir_7628": [
        "NISTIR 7628 Rev. 1 (requirement families)",
        "NISTIR 7628 Rev. 1 (high-level security requirements)",
        "NISTIR 7628 Rev. 1 (logical interface categories)",
    ],
}


@pytest.fixture(scope="module")
def reference() -> dict:
    return yaml.safe_load(FROZEN_REFERENCE.read_text(encoding="utf-8"))


def reference_entries(reference: dict, key: str) -> dict[str, dict]:
    """Reference entries of one catalog's sections, by id."""
    return {e["id"]: e for s in SECTIONS[key] for e in reference["standards"][s]}


def test_frozen_reference_is_current():
    if not SHARED_REFERENCE.exists():
        pytest.skip(f"{SHARED_REFERENCE} not present (clean clone): the frozen copy is used")
    assert FROZEN_REFERENCE.read_bytes() == SHARED_REFERENCE.read_bytes(), (
        "tests/data/standards-reference.yaml differs from the shared reference: copy it over "
        "and run tools/regen_standards.py"
    )


def test_catalog_files_are_regenerated(reference):
    """The shipped YAML is exactly what tools/regen_standards.py makes of the frozen reference."""
    spec = importlib.util.spec_from_file_location("regen", ROOT / "tools" / "regen_standards.py")
    regen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(regen)
    assert {h["key"]: h["sections"] for h in regen.CATALOGS} == SECTIONS
    for header in regen.CATALOGS:
        expected = regen.render(regen.build_catalog(header, reference), header["sections"])
        shipped = (ROOT / "standards" / f"{header['key']}.yaml").read_text(encoding="utf-8")
        assert shipped == expected, f"standards/{header['key']}.yaml: run tools/regen_standards.py"


def test_catalog_keys():
    assert set(standards.load_catalogs()) == set(SECTIONS)


@pytest.mark.parametrize("key", sorted(SECTIONS))
def test_catalog_reproduces_reference(reference, key):
    expected = reference_entries(reference, key)
    cat = standards.load_catalogs()[key]
    outside = [c.id for c in cat.controls if c.id not in expected]
    assert not outside, f"{key}: controls the reference does not list: {outside}"
    for control in cat.controls:
        entry = expected[control.id]
        assert control.title == entry["title"], control.id
        assert control.verified is entry["confirmed"], control.id
        assert list(control.principles) == list(entry.get("principles") or []), control.id
        assert control.source, control.id
    missing = sorted(set(expected) - set(cat.ids))
    assert not missing, f"{key}: reference controls missing from the catalog: {missing}"


def test_catalog_headers():
    for key, cat in standards.load_catalogs().items():
        assert cat.key == key
        assert cat.name and cat.title and cat.version, key
    nerc = standards.load_catalogs()["nerc_cip"]
    assert "BES Cyber Systems" in nerc.note and "good practice" in nerc.note


def test_nistir_is_unverified_everywhere():
    cat = standards.load_catalogs()["nistir_7628"]
    assert cat.controls and not any(c.verified for c in cat.controls)
    assert cat.get("SG.SC-8").label() == "SG.SC-8 (unverified)"


def test_label():
    nist = standards.load_catalogs()["nist_800_53"]
    assert nist.get("SC-8").label() == "SC-8"
    assert standards.label("SG.SC-8", False) == "SG.SC-8 (unverified)"
    assert nist.get("SC-99") is None


def test_shipped_mapping_refers_only_to_catalog_controls():
    catalogs = standards.load_catalogs()
    for rule, entry in standards.load_mapping().items():
        for key, ids in entry.items():
            assert key in catalogs, f"{rule}: unknown standard {key}"
            for control_id in ids:
                assert catalogs[key].get(control_id), f"{rule}: {key} has no {control_id}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AMI-TST-001:\n  nist_800_53: [SC-8, SC-88]\n", "has no control 'SC-88'"),
        ("AMI-TST-001:\n  nistir_7628: [SG.SC-28]\n", "has no control 'SG.SC-28'"),
        ("AMI-TST-001:\n  iec62443: [SR 3.1]\n", "unknown standard 'iec62443'"),
        ("AMI-TST-001:\n  nist_800_53: []\n", "non-empty list"),
        ("AMI-TST-001:\n  nist_800_53: [SC-8, SC-8]\n", "more than once: SC-8"),
        ("ami-tst-1:\n  nist_800_53: [SC-8]\n", "AMI-<FAMILY>-<NNN>"),
        ("- AMI-TST-001\n", "expected a mapping"),
    ],
)
def test_bad_mapping_raises(text, message):
    with pytest.raises(standards.StandardsError, match=re.escape(message)):
        standards.parse_mapping(text, standards.load_catalogs())


def test_bad_mapping_reports_every_problem():
    text = "AMI-TST-001:\n  nist_800_53: [SC-88]\nAMI-TST-002:\n  pci_dss: [Requirement 13]\n"
    with pytest.raises(standards.StandardsError) as info:
        standards.parse_mapping(text, standards.load_catalogs())
    assert "SC-88" in str(info.value) and "Requirement 13" in str(info.value)


def test_good_mapping_parses():
    text = "AMI-TST-001:\n  nist_800_53: [SC-8]\n  nistir_7628: [SG.SC-8]\n"
    mapping = standards.parse_mapping(text, standards.load_catalogs())
    assert mapping == {"AMI-TST-001": {"nist_800_53": ["SC-8"], "nistir_7628": ["SG.SC-8"]}}


def test_bad_catalog_raises():
    with pytest.raises(standards.StandardsError, match="does not match the file name"):
        standards.parse_catalog("key: other\nname: x\ntitle: x\nversion: x\ncontrols: []\n", "x.yaml")
    bad_principle = (
        "key: x\nname: x\ntitle: x\nversion: x\ncontrols:\n"
        "- {id: A-1, title: T, verified: true, source: s, principles: [secrecy]}\n"
    )
    with pytest.raises(standards.StandardsError, match="unknown principle"):
        standards.parse_catalog(bad_principle, "x.yaml")


def test_digest_tracks_every_file(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text("key: a\n")
    (tmp_path / "mapping.yaml").write_text("{}\n")
    monkeypatch.setattr(catalog_module, "_package_files", lambda: sorted(tmp_path.iterdir()))
    first = standards.digest()
    assert re.fullmatch(r"[0-9a-f]{64}", first) and standards.digest() == first
    (tmp_path / "mapping.yaml").write_text("{} \n")
    second = standards.digest()
    assert second != first
    (tmp_path / "a.yaml").rename(tmp_path / "b.yaml")
    assert standards.digest() != second


def test_digest_of_shipped_files():
    assert re.fullmatch(r"[0-9a-f]{64}", standards.digest())


def test_standards_table_rows(monkeypatch):
    mapping = {
        "AMI-TST-002": {"nist_800_53": ["SC-8", "AU-2"]},
        "AMI-TST-001": {"nist_800_53": ["SC-8"], "nistir_7628": ["SG.SC-8"]},
    }
    monkeypatch.setattr(table_module, "load_mapping", lambda: mapping)
    rows = {r.id: r for r in standards.standards_table("nist_800_53")}
    assert list(rows) == list(standards.load_catalogs()["nist_800_53"].ids)
    assert rows["SC-8"].rules == ("AMI-TST-001", "AMI-TST-002")
    assert rows["AU-2"].rules == ("AMI-TST-002",)
    assert rows["AC-2"].rules == ()
    assert rows["SC-8"].as_dict()["title"] == "Transmission Confidentiality and Integrity"
    nistir = {r.id: r for r in standards.standards_table("nistir_7628")}
    assert nistir["SG.SC-8"].label == "SG.SC-8 (unverified)"
    assert nistir["SG.SC-8"].rules == ("AMI-TST-001",)


def test_standards_table_all_and_unknown():
    total = sum(len(c.controls) for c in standards.load_catalogs().values())
    assert len(standards.standards_table(None)) == total
    with pytest.raises(standards.UnknownStandardError, match="nist_800_53"):
        standards.standards_table("nist")


# --- the mapping minimum for the shipped rules ------------------------------------------------

def _metadata_blocks(text: str) -> list[dict]:
    """The YAML of every `# METADATA` comment block in a Rego file."""
    blocks, current = [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "# METADATA":
            current = []
        elif current is not None and stripped.startswith("#"):
            current.append(stripped[2:] if stripped.startswith("# ") else stripped[1:])
        elif current is not None:
            blocks.append(yaml.safe_load("\n".join(current)) or {})
            current = None
    if current is not None:
        blocks.append(yaml.safe_load("\n".join(current)) or {})
    return blocks


def _shipped_rule_ids() -> list[str]:
    ids = []
    for path in sorted(RULES_DIR.rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        for block in _metadata_blocks(path.read_text(encoding="utf-8")):
            rule_id = (block.get("custom") or {}).get("id")
            if rule_id:
                ids.append(rule_id)
    return ids


def test_metadata_parser_finds_ids():
    text = "# METADATA\n# title: T\n# custom:\n#   id: AMI-TST-001\n#   severity: low\nr := 1\n"
    assert _metadata_blocks(text) == [{"title": "T", "custom": {"id": "AMI-TST-001", "severity": "low"}}]


def test_every_rule_meets_the_mapping_minimum():
    mapping = standards.load_mapping()
    problems = []
    for rule in _shipped_rule_ids():
        entry = mapping.get(rule, {})
        if not entry.get("nist_800_53"):
            problems.append(f"{rule}: no NIST SP 800-53 Rev. 5 control")
        if not (entry.get("iec_62443") or entry.get("nistir_7628")):
            problems.append(f"{rule}: no IEC 62443-3-3 or NISTIR 7628 control")
    assert not problems, "\n".join(problems)


def test_mapping_names_only_shipped_rules():
    shipped = set(_shipped_rule_ids())
    stale = sorted(set(standards.load_mapping()) - shipped)
    assert not stale, f"mapping entries for rules that do not exist: {stale}"
