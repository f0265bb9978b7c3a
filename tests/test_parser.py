"""Every construct of the deployment language, asserted on the compiled input it produces.

Each test compiles a small deployment and reads the fields the policies will read, so a change in
the grammar, the builder or the emitter that alters a meaning shows up here. The vocabularies are
written out from DESIGN.md rather than imported, so dropping a word from the compiler fails.
"""
from __future__ import annotations

import hashlib

import pytest

from amisec.compiler import compile_text

HEADER = 'deployment "Test" { utility u }\nparty u "Utility" : utility\n'


def compile_body(body: str, header: str = HEADER) -> dict:
    """Compile `body` after a minimal deployment header."""
    return compile_text(header + body, "t.ami")


def one(doc: dict, collection: str, ident: str) -> dict:
    matches = [e for e in doc[collection] if e.get("id") == ident]
    assert len(matches) == 1, f"{ident} not found once in {collection}"
    return matches[0]


# A small world most tests build on: one utility edge meter and one head end.
WORLD = """
domain field : utility_edge
domain core : automated_network
device m : meter in field
device h : head_end in core
"""

from design_vocabulary import (  # noqa: E402 — the specification's words
    PARTY_KINDS,
    CUSTOMER_CLASSES,
    DOMAIN_KINDS,
    DEVICE_KINDS,
    DATA_CLASSES,
    AGREEMENT_KINDS,
    MEDIA,
    PROTOCOLS,
    ENCRYPTION,
    AUTHENTICATION,
    INTEGRITY,
    USE_CASES,
    STANDARDS,
    RIGHTS,
)


# --- deployment --------------------------------------------------------------------------------
def test_deployment_header_fields() -> None:
    text = """# leading comment
deployment "Plan \\"B\\" 2027" {
  utility u
  version "2.3"
  use_cases billing.remote_read, customer.prepayment
  standards nerc_cip
}
party u "U" : utility
"""
    doc = compile_text(text, "plans/b.ami")
    dep = doc["deployment"]
    assert doc["schema_version"] == "1.0"
    assert dep["name"] == 'Plan "B" 2027'
    assert (dep["utility"], dep["utility_idx"], dep["version"]) == ("u", 0, "2.3")
    assert dep["use_cases"] == ["billing.remote_read", "customer.prepayment"]
    assert dep["standards"] == ["nerc_cip"]
    assert dep["source"] == {"file": "plans/b.ami", "sha256": hashlib.sha256(text.encode()).hexdigest()}
    assert dep["span"] == {"file": "plans/b.ami", "line": 2, "column": 1, "end_line": 7, "end_column": 2}


def test_deployment_defaults_when_only_utility_is_given() -> None:
    dep = compile_body("")["deployment"]
    assert (dep["version"], dep["use_cases"], dep["standards"]) == (None, [], [])


def test_every_use_case_and_standard_across_lines() -> None:
    lines = ",\n            ".join(USE_CASES)
    header = f'deployment "T" {{\n  utility u\n  use_cases {lines}\n  standards {", ".join(STANDARDS)}\n}}\nparty u : utility\n'
    dep = compile_body("", header)["deployment"]
    assert dep["use_cases"] == USE_CASES
    assert dep["standards"] == STANDARDS


def test_repeated_list_words_are_kept_once() -> None:
    header = 'deployment "T" { utility u; use_cases system.recovery, system.recovery; standards pci_dss, pci_dss }\nparty u : utility\n'
    dep = compile_body("", header)["deployment"]
    assert dep["use_cases"] == ["system.recovery"]
    assert dep["standards"] == ["pci_dss"]


# --- parties -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", PARTY_KINDS)
def test_party_kinds(kind: str) -> None:
    p = one(compile_body(f'party p "P" : {kind}\n'), "parties", "p")
    assert (p["kind"], p["name"], p["customer_class"], p["is_utility"]) == (kind, "P", None, False)


@pytest.mark.parametrize("klass", CUSTOMER_CLASSES)
def test_customer_classes(klass: str) -> None:
    p = one(compile_body(f"party c : customer {klass}\n"), "parties", "c")
    assert (p["kind"], p["customer_class"], p["name"]) == ("customer", klass, None)


def test_party_span_and_is_utility() -> None:
    doc = compile_body('party other "Other Utility" : utility\n')
    u, other = doc["parties"]
    assert u["is_utility"] is True and other["is_utility"] is False
    written = 'party other "Other Utility" : utility'
    assert other["span"] == {"file": "t.ami", "line": 3, "column": 1, "end_line": 3, "end_column": len(written) + 1}


# --- agreements --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", AGREEMENT_KINDS)
def test_agreement_kinds_without_block(kind: str) -> None:
    a = one(compile_body(f"agreement a : {kind}\n"), "agreements", "a")
    assert a["kind"] == kind
    assert (a["between"], a["covers"], a["data"], a["reference"], a["expires"]) == ([], [], [], None, None)


def test_agreement_properties_and_resolved_references() -> None:
    doc = compile_body(
        WORLD
        + """party t "T" : third_party
link l : m -> h
agreement a : data_sharing {
  between u, t
  covers h, l, m
  data usage_data, meter_reads
  reference "DS-7"
  expires 2028-02-29
}
"""
    )
    a = one(doc, "agreements", "a")
    assert (a["between"], a["between_idx"], a["between_kinds"]) == (["u", "t"], [0, 1], ["utility", "third_party"])
    assert a["covers"] == ["h", "l", "m"]
    assert (a["covers_devices"], a["covers_links"]) == ([1, 0], [0])
    assert a["data"] == ["usage_data", "meter_reads"]
    assert (a["reference"], a["expires"]) == ("DS-7", "2028-02-29")


def test_agreement_data_star_means_every_class() -> None:
    a = one(compile_body("agreement a : customer_consent { data * }\n"), "agreements", "a")
    assert a["data"] == DATA_CLASSES


# --- domains -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", DOMAIN_KINDS)
def test_domain_kinds(kind: str) -> None:
    d = one(compile_body(f"domain d : {kind}\n"), "domains", "d")
    assert (d["kind"], d["customer"], d["customer_idx"], d["device_count"], d["owner_customers"]) == (kind, None, None, 0, [])


def test_domain_customer_device_count_and_owner_customers() -> None:
    doc = compile_body(
        """party c1 : customer residential
party c2 : customer commercial
domain home : premise_edge { customer c1 }
device a : han_device in home { owner c1 }
device b : ems in home { owner c2 }
device c : han_device in home { owner c1 }
device d : customer_interface in home { owner u }
"""
    )
    home = one(doc, "domains", "home")
    assert (home["customer"], home["customer_idx"]) == ("c1", 1)
    assert home["device_count"] == 4
    assert home["owner_customers"] == ["c1", "c2"]


# --- devices -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", DEVICE_KINDS)
def test_device_kinds(kind: str) -> None:
    d = one(compile_body(f"domain z : utility_enterprise\ndevice d : {kind} in z\n"), "devices", "d")
    assert (d["kind"], d["domain"], d["domain_idx"], d["domain_kind"]) == (kind, "z", 0, "utility_enterprise")


def test_device_defaults_are_the_weakest_values() -> None:
    d = one(compile_body(WORLD), "devices", "m")
    assert d["count"] == 1
    assert (d["owner"], d["owner_idx"], d["owner_kind"], d["owner_is_utility"]) == (None, None, None, False)
    assert (d["control_by"], d["control_by_idx"], d["control_by_kind"], d["control_by_is_utility"]) == (None, None, None, False)
    assert (d["control_basis"], d["control_for"], d["control_on_admission"], d["control_agreement"]) == ("none", None, False, None)
    assert (d["control_agreement_covers"], d["control_agreement_with_utility"]) == (False, False)
    assert (d["firmware"], d["storage"], d["processing"], d["role"]) == ("unsigned", "plaintext", "normal", None)
    assert (d["tamper_detection"], d["remote_disconnect"], d["logging"], d["redundancy"]) == (False, False, False, 1)


def test_device_every_property_set() -> None:
    d = one(
        compile_body(
            """domain field : utility_edge
device m : meter x 48_000 in field {
  owner u
  control u
  firmware signed
  storage encrypted
  tamper_detection on
  remote_disconnect on
  logging on
  redundancy 3
  role ami_gateway
  processing constrained
}
"""
        ),
        "devices",
        "m",
    )
    assert d["count"] == 48000
    assert (d["owner"], d["owner_idx"], d["owner_kind"], d["owner_is_utility"]) == ("u", 0, "utility", True)
    assert (d["control_by"], d["control_by_kind"], d["control_by_is_utility"], d["control_basis"]) == ("u", "utility", True, "owner")
    assert (d["firmware"], d["storage"], d["processing"], d["role"]) == ("signed", "encrypted", "constrained", "ami_gateway")
    assert (d["tamper_detection"], d["remote_disconnect"], d["logging"], d["redundancy"]) == (True, True, True, 3)


@pytest.mark.parametrize("prop", ["tamper_detection", "remote_disconnect", "logging"])
def test_switch_off_is_false(prop: str) -> None:
    d = one(compile_body(f"domain f : utility_edge\ndevice m : meter in f {{ {prop} off }}\n"), "devices", "m")
    assert d[prop] is False


@pytest.mark.parametrize(
    ("written", "count"),
    [("x 1", 1), ("x 40", 40), ("x 1_000_000", 1_000_000), ("x 9_007_199_254_740_991", 2**53 - 1)],
)
def test_fleet_counts(written: str, count: int) -> None:
    d = one(compile_body(f"domain f : utility_edge\ndevice m : meter {written} in f\n"), "devices", "m")
    assert d["count"] == count


# --- control bases -----------------------------------------------------------------------------
CONTROL_WORLD = """party peer : peer_utility
party cust : customer residential
party telco : communication_provider
agreement msa : service_contract { between u, telco; covers d }
domain z : utility_edge
"""


@pytest.mark.parametrize(
    ("control", "expected"),
    [
        ("control u", {"control_by": "u", "control_basis": "owner", "control_for": None, "control_on_admission": False, "control_agreement": None}),
        (
            "control u proxy_for peer",
            {"control_by": "u", "control_basis": "proxy_for", "control_for": "peer", "control_for_idx": 1, "control_for_kind": "peer_utility", "control_on_admission": False},
        ),
        (
            "control u delegated_by cust on admission",
            {"control_basis": "delegated_by", "control_for": "cust", "control_for_kind": "customer", "control_on_admission": True},
        ),
        ("control u delegated_by cust", {"control_basis": "delegated_by", "control_for": "cust", "control_on_admission": False}),
        (
            "control telco under msa",
            {
                "control_by": "telco",
                "control_by_idx": 3,
                "control_by_kind": "communication_provider",
                "control_by_is_utility": False,
                "control_basis": "under",
                "control_for": None,
                "control_agreement": "msa",
                "control_agreement_idx": 0,
                "control_agreement_kind": "service_contract",
                "control_agreement_covers": True,
                "control_agreement_with_utility": True,
            },
        ),
    ],
)
def test_control_bases(control: str, expected: dict) -> None:
    d = one(compile_body(CONTROL_WORLD + f"device d : meter in z {{ {control} }}\n"), "devices", "d")
    assert {k: d[k] for k in expected} == expected


def test_control_under_agreement_that_neither_covers_nor_binds_the_utility() -> None:
    doc = compile_body(
        """party telco : communication_provider
party other : communication_provider
agreement side : service_contract { between telco, other; covers x }
domain z : communication
device d : aggregator in z { control telco under side }
device x : aggregator in z
"""
    )
    d = one(doc, "devices", "d")
    assert (d["control_basis"], d["control_agreement_covers"], d["control_agreement_with_utility"]) == ("under", False, False)


# --- links -------------------------------------------------------------------------------------
def test_link_defaults_and_denormalised_endpoints() -> None:
    doc = compile_body(
        """party peer : peer_utility
domain field : utility_edge
domain core : automated_network
device m : meter in field { owner peer; role ami_gateway }
device h : head_end in core { owner u }
link l : m -> h
"""
    )
    link = one(doc, "links", "l")
    assert (link["from"], link["from_idx"], link["to"], link["to_idx"], link["bidirectional"]) == ("m", 0, "h", 1, False)
    assert (link["from_kind"], link["to_kind"]) == ("meter", "head_end")
    assert (link["from_domain_idx"], link["to_domain_idx"]) == (0, 1)
    assert (link["from_domain_kind"], link["to_domain_kind"]) == ("utility_edge", "automated_network")
    assert (link["from_owner_kind"], link["to_owner_kind"]) == ("peer_utility", "utility")
    assert (link["from_role"], link["to_role"], link["same_domain"]) == ("ami_gateway", None, False)
    assert (link["medium"], link["protocol"]) == (None, None)
    assert (link["encryption"], link["authentication"], link["integrity"]) == ("none", "none", "none")
    assert (link["carries"], link["carries_all"], link["latency_s"], link["bandwidth_bps"]) == ([], False, None, None)


def test_bidirectional_arrow_and_same_domain() -> None:
    link = one(compile_body("domain f : utility_edge\ndevice a : meter in f\ndevice b : meter in f\nlink l : a <-> b\n"), "links", "l")
    assert (link["bidirectional"], link["same_domain"]) == (True, True)


@pytest.mark.parametrize(("prop", "values"), [("medium", MEDIA), ("protocol", PROTOCOLS), ("encryption", ENCRYPTION), ("authentication", AUTHENTICATION), ("integrity", INTEGRITY)])
def test_link_vocabularies(prop: str, values: list[str]) -> None:
    body = WORLD + "".join(f"link l{i} : m -> h {{ {prop} {v} }}\n" for i, v in enumerate(values))
    doc = compile_body(body)
    assert [link[prop] for link in doc["links"]] == values


def test_carries_every_data_class_across_lines_with_comments() -> None:
    listing = ",\n          # a comment line inside the list\n          ".join(DATA_CLASSES)
    link = one(compile_body(WORLD + f"link l : m -> h {{\n  carries {listing}  # trailing\n}}\n"), "links", "l")
    assert (link["carries"], link["carries_all"]) == (DATA_CLASSES, False)


def test_carries_star() -> None:
    link = one(compile_body(WORLD + "link l : m -> h { carries * }\n"), "links", "l")
    assert (link["carries"], link["carries_all"]) == (DATA_CLASSES, True)


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("500ms", 0.5), ("1ms", 0.001), ("0s", 0), ("60s", 60), ("5m", 300), ("2h", 7200), ("1_500ms", 1.5), ("90s", 90)],
)
def test_durations_in_seconds(written: str, seconds: float) -> None:
    link = one(compile_body(WORLD + f"link l : m -> h {{ latency {written} }}\n"), "links", "l")
    assert link["latency_s"] == pytest.approx(seconds)
    assert isinstance(link["latency_s"], (int, float))


@pytest.mark.parametrize(
    ("written", "bps"),
    [("9600bps", 9600), ("100kbps", 100_000), ("10mbps", 10_000_000), ("1_200bps", 1200), ("2gbps", 2_000_000_000)],
)
def test_rates_in_bits_per_second(written: str, bps: int) -> None:
    link = one(compile_body(WORLD + f"link l : m -> h {{ bandwidth {written} }}\n"), "links", "l")
    assert link["bandwidth_bps"] == bps
    assert isinstance(link["bandwidth_bps"], int)


def test_link_every_property_multiline() -> None:
    link = one(
        compile_body(
            WORLD
            + """link rf : m -> h {
  medium rf_mesh
  protocol c12_22
  encryption aes_128
  authentication mutual
  integrity mac
  carries meter_reads, tamper_alert
  latency 30s
  bandwidth 100kbps
}
"""
        ),
        "links",
        "rf",
    )
    got = {k: link[k] for k in ("medium", "protocol", "encryption", "authentication", "integrity", "carries", "latency_s", "bandwidth_bps")}
    assert got == {
        "medium": "rf_mesh",
        "protocol": "c12_22",
        "encryption": "aes_128",
        "authentication": "mutual",
        "integrity": "mac",
        "carries": ["meter_reads", "tamper_alert"],
        "latency_s": 30,
        "bandwidth_bps": 100_000,
    }
    first = (HEADER + WORLD).count("\n") + 1  # the link starts on the line after WORLD
    assert link["span"] == {"file": "t.ami", "line": first, "column": 1, "end_line": first + 9, "end_column": 2}


# --- flows -------------------------------------------------------------------------------------
@pytest.mark.parametrize("data", DATA_CLASSES)
def test_flow_data_classes(data: str) -> None:
    f = one(compile_body(WORLD + f"link l : h -> m {{ carries {data} }}\nflow f : {data} from h to m\n"), "flows", "f")
    assert (f["data"], f["path"], f["path_found"]) == (data, [0], True)


def test_flow_defaults() -> None:
    f = one(compile_body(WORLD + "flow f : disconnect_command from h to m\n"), "flows", "f")
    assert (f["from"], f["from_idx"], f["from_kind"], f["to"], f["to_idx"], f["to_kind"]) == ("h", 1, "head_end", "m", 0, "meter")
    assert (f["signed_by"], f["signed_by_idx"], f["signed_by_kind"]) == (None, None, None)
    assert (f["non_repudiation"], f["logged"], f["latency_s"], f["priority"]) == (False, False, None, "normal")
    assert (f["path"], f["path_found"], f["path_latency_s"], f["path_latency_complete"]) == ([], False, 0, True)


def test_flow_every_property() -> None:
    f = one(
        compile_body(
            WORLD
            + """link l : h -> m { carries disconnect_command; latency 20s }
flow f : disconnect_command from h to m {
  signed by u
  non_repudiation on
  logged on
  latency 5m
  priority emergency
}
"""
        ),
        "flows",
        "f",
    )
    assert (f["signed_by"], f["signed_by_idx"], f["signed_by_kind"]) == ("u", 0, "utility")
    assert (f["non_repudiation"], f["logged"], f["latency_s"], f["priority"]) == (True, True, 300, "emergency")
    assert (f["path"], f["path_found"], f["path_latency_s"], f["path_latency_complete"]) == ([0], True, 20, True)


@pytest.mark.parametrize("priority", ["emergency", "high", "normal"])
def test_flow_priorities(priority: str) -> None:
    f = one(compile_body(WORLD + f"flow f : dr_signal from h to m {{ priority {priority} }}\n"), "flows", "f")
    assert f["priority"] == priority


def test_flow_path_latency_incomplete_when_a_link_declares_none() -> None:
    doc = compile_body(
        WORLD
        + """domain mesh : communication
device c : aggregator in mesh
link a : m -> c { carries meter_reads; latency 30s }
link b : c -> h { carries meter_reads }
flow f : meter_reads from m to h
"""
    )
    f = one(doc, "flows", "f")
    assert (f["path"], f["path_latency_s"], f["path_latency_complete"]) == ([0, 1], 30, False)


def test_flow_to_itself_has_an_empty_path_that_is_found() -> None:
    f = one(compile_body(WORLD + "flow f : diagnostics from h to h\n"), "flows", "f")
    assert (f["path"], f["path_found"]) == ([], True)


# --- delegations -------------------------------------------------------------------------------
DELEGATION_WORLD = """party home : customer residential
party ems_co : third_party
domain house : premise_edge { customer home }
device t : han_device in house { owner home }
device s : han_device in house { owner home }
agreement consent : customer_consent { between home, ems_co; covers t }
"""


def test_delegation_every_property() -> None:
    doc = compile_body(
        DELEGATION_WORLD
        + """delegation g {
  from home
  to ems_co
  over t
  rights monitor, control, configure, read_data
  consent consent
  logged on
  non_repudiation on
  expires 2027-01-31
}
"""
    )
    g = one(doc, "delegations", "g")
    assert (g["from"], g["from_idx"], g["from_kind"]) == ("home", 1, "customer")
    assert (g["to"], g["to_idx"], g["to_kind"]) == ("ems_co", 2, "third_party")
    assert (g["over"], g["over_idx"], g["rights"]) == (["t"], [0], RIGHTS)
    assert (g["consent"], g["consent_idx"], g["consent_kind"]) == ("consent", 0, "customer_consent")
    assert (g["consent_covers"], g["consent_between_ok"]) == (True, True)
    assert (g["logged"], g["non_repudiation"], g["expires"]) == (True, True, "2027-01-31")


def test_delegation_defaults_and_consent_checks() -> None:
    doc = compile_body(
        DELEGATION_WORLD
        + """delegation bare { from home; to ems_co; over t }
delegation wide { from u; to ems_co; over t, s; consent consent }
"""
    )
    bare = one(doc, "delegations", "bare")
    assert (bare["rights"], bare["consent"], bare["consent_idx"], bare["consent_kind"]) == ([], None, None, None)
    assert (bare["consent_covers"], bare["consent_between_ok"], bare["logged"], bare["non_repudiation"], bare["expires"]) == (False, False, False, False, None)
    wide = one(doc, "delegations", "wide")
    # The consent covers t but not s, and is between home and ems_co, not u and ems_co.
    assert (wide["over_idx"], wide["consent_covers"], wide["consent_between_ok"]) == ([0, 1], False, False)


# --- waivers -----------------------------------------------------------------------------------
def test_waivers_on_every_collection() -> None:
    doc = compile_body(
        WORLD
        + """link l : m -> h
waiver AMI-AVL-003 on h {
  reason "Second site in phase 3"
  approved_by "CISO"
  expires 2027-03-31
}
waiver AMI-OWN-001 on u { reason "r"; approved_by "a"; expires 2026-01-01 }
waiver AMI-TOP-002 on l { reason "r"; approved_by "a"; expires 2026-01-01 }
waiver AMI-HYG-001 on field { reason "r"; approved_by "a"; expires 2026-01-01 }
"""
    )
    w = doc["waivers"]
    assert [(x["rule"], x["on"], x["on_collection"], x["on_idx"]) for x in w] == [
        ("AMI-AVL-003", "h", "devices", 1),
        ("AMI-OWN-001", "u", "parties", 0),
        ("AMI-TOP-002", "l", "links", 0),
        ("AMI-HYG-001", "field", "domains", 0),
    ]
    assert (w[0]["reason"], w[0]["approved_by"], w[0]["expires"]) == ("Second site in phase 3", "CISO", "2027-03-31")
    first = (HEADER + WORLD).count("\n") + 2  # after WORLD and the link line
    assert (w[0]["span"]["line"], w[0]["span"]["end_line"]) == (first, first + 4)


# --- lexical structure -------------------------------------------------------------------------
def test_semicolons_separate_statements_and_properties() -> None:
    text = 'deployment "T" { utility u; version "1" };party u : utility; domain a : utility_edge;;domain b : communication\n'
    doc = compile_text(text, "t.ami")
    assert [d["id"] for d in doc["domains"]] == ["a", "b"]
    assert doc["deployment"]["version"] == "1"
    assert [d["span"]["column"] for d in doc["domains"]] == [text.index("domain a") + 1, text.index("domain b") + 1]
    assert [d["span"]["end_column"] for d in doc["domains"]] == [text.index(";;") + 1, len(text)]


def test_comments_blank_lines_and_no_final_newline() -> None:
    text = """# header comment

deployment "T" {   # after the brace
  # inside a block
  utility u   # after a property

}
# between statements
party u : utility # after a statement
domain a : utility_edge"""
    doc = compile_text(text, "t.ami")
    assert doc["deployment"]["utility"] == "u"
    assert doc["domains"][0]["span"] == {"file": "t.ami", "line": 10, "column": 1, "end_line": 10, "end_column": 24}


def test_hash_inside_a_string_is_not_a_comment() -> None:
    doc = compile_body('party p "Gas #2 # not a comment" : peer_utility\n')
    assert doc["parties"][1]["name"] == "Gas #2 # not a comment"


def test_empty_blocks() -> None:
    doc = compile_body("domain a : utility_edge {}\ndomain b : communication {   }\ndomain c : managed_network {\n\n}\n")
    assert [d["id"] for d in doc["domains"]] == ["a", "b", "c"]


def test_tabs_and_crlf_line_endings() -> None:
    text = 'deployment "T" {\r\n\tutility u\r\n}\r\nparty u : utility\r\ndomain\tf\t:\tutility_edge\r\n'
    doc = compile_text(text, "t.ami")
    # A tab is one column, as in Lark and SARIF; the span ends before the CR.
    assert doc["domains"][0]["span"] == {"file": "t.ami", "line": 5, "column": 1, "end_line": 5, "end_column": 24}


@pytest.mark.parametrize(
    ("written", "iso"),
    [("2027-03-31", "2027-03-31"), ("2028-02-29", "2028-02-29"), ("1999-12-31", "1999-12-31")],
)
def test_dates(written: str, iso: str) -> None:
    a = one(compile_body(f"agreement a : confidentiality {{ expires {written} }}\n"), "agreements", "a")
    assert a["expires"] == iso


def test_one_namespace_allows_every_kind_to_be_referenced_by_covers() -> None:
    doc = compile_body(WORLD + "link rf : m -> h\nagreement a : service_contract { covers rf, m }\n")
    a = one(doc, "agreements", "a")
    assert (a["covers_devices"], a["covers_links"]) == ([0], [0])
