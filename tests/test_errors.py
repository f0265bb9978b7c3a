"""Every class of input error: where it is reported (line, column) and what it says.

Messages are the product here: they must speak in the words of the language (never Lark's token
names), point at the offending word, suggest the intended word where one is close, and report
every semantic problem of a file in one run. Edge inputs (empty, binary, non-UTF-8, CRLF, BOM,
tabs) go through the command line: exit code 2, `file:line:col` on stderr, never a traceback.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.compiler import InputError, compile_text
from amisec.compiler.diagnostics import Diagnostic

HEADER = 'deployment "T" { utility u }\nparty u "Utility" : utility\n'
WORLD = HEADER + "domain field : utility_edge\ndevice m : meter in field\n"

# Terminal names of the grammar; none of them may reach a user.
TOKEN_NAMES = re.compile(r"\b(NAME|STRING|NUMBER|RULE_ID|ARROW|COMMA|STAR|LBRACE|RBRACE|SEMICOLON|COLON|_NL|\$END|__\w+)\b")


def diagnostics(text: str) -> list[Diagnostic]:
    """The diagnostics compiling `text` raises, in source order."""
    with pytest.raises(InputError) as info:
        compile_text(text, "t.ami")
    found = sorted(info.value.diagnostics, key=lambda d: (d.span.line, d.span.column))
    for d in found:
        assert not TOKEN_NAMES.search(d.message), d.message
        assert not TOKEN_NAMES.search(d.hint or ""), d.hint
    return found


def only(text: str) -> Diagnostic:
    found = diagnostics(text)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based (line, column) of the n-th occurrence of `needle` in `text`."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def where(d: Diagnostic) -> tuple[int, int]:
    return d.span.line, d.span.column


# --- syntax errors -----------------------------------------------------------------------------
def test_unexpected_word_lists_statements_in_words_and_suggests() -> None:
    text = HEADER + "devise m : meter in field\n"
    d = only(text)
    assert where(d) == (3, 1)
    assert (d.span.end_line, d.span.end_column) == (3, 7)
    assert d.message.startswith("unexpected 'devise'; expected one of ")
    for word in ("'device'", "'link'", "'waiver'", "the end of the file"):
        assert word in d.message
    assert d.hint == "did you mean 'device'?"


def test_unknown_statement_word_without_a_close_match_lists_the_statements() -> None:
    d = only(HEADER + "zzz top\n")
    assert where(d) == (3, 1)
    assert d.hint == "a statement starts with one of: deployment, party, agreement, domain, device, link, flow, delegation, waiver"


def test_missing_colon() -> None:
    text = HEADER + "domain f utility_edge\n"
    d = only(text)
    assert where(d) == position(text, "utility_edge")
    assert d.message == "unexpected 'utility_edge'; expected ':'"


def test_missing_arrow() -> None:
    text = WORLD + "link l : m  m\n"
    d = only(text)
    assert where(d) == position(text, "m\n", 1)
    assert d.message == "unexpected 'm'; expected '->' or '<->'"


def test_block_opened_on_the_next_line() -> None:
    text = WORLD + "device h : head_end in field\n{ owner u }\n"
    d = only(text)
    assert where(d) == (6, 1)
    assert d.message.startswith("unexpected '{'; expected one of ")
    # Only what may follow a complete statement is listed, not what a block would accept.
    assert "'}'" not in d.message and "a name" not in d.message
    assert d.hint == "a block starts with '{' on the same line as its header"


def test_unclosed_block_at_end_of_file() -> None:
    d = only('deployment "T" {\n  utility u\n')
    assert where(d) == (3, 1)
    assert d.message == "unexpected end of file; expected '}' or a name"
    assert d.hint == "a block is not closed: add the missing '}'"


def test_unclosed_block_before_the_next_statement() -> None:
    text = HEADER + "domain h : premise_edge {\n  customer u\ndomain g : communication\n"
    d = only(text)
    assert where(d) == (5, 1)
    assert d.message == "unexpected 'domain'; expected '}' or a name"
    assert d.hint == "the block above is not closed: add the missing '}' before this 'domain' statement"


@pytest.mark.parametrize("statement", [
    'deployment "U" {', 'party p "P" : customer', "agreement a : confidentiality { between u }",
    "domain g : communication", "device d : meter x 3 in field", "link l : a -> b { medium fiber }",
    "flow f : meter_reads from a to b", "delegation x { from u }", "waiver AMI_OWN on d { reason r }",
])
def test_any_statement_inside_an_unclosed_block_is_named_with_the_missing_brace(statement: str) -> None:
    # inside a block a line starts with a property name, so the statement reads as a property
    # until its header goes wrong; the statement word is what is named, where it stands
    text = HEADER + "domain h : premise_edge {\n  customer u\n    " + statement + "\n"
    d = only(text)
    word = statement.split()[0]
    assert (d.span.line, d.span.column, d.span.end_column) == (5, 5, 5 + len(word))
    assert d.message == f"unexpected '{word}'; expected '}}' or a name"
    assert d.hint == f"the block above is not closed: add the missing '}}' before this '{word}' statement"


def test_a_semicolon_where_a_word_belongs_is_named_as_written() -> None:
    d = only(HEADER + "domain f : utility_edge\ndevice a : ;  # later\n")
    assert (where(d), d.message, d.hint) == ((4, 12), "unexpected ';'; expected a name", None)


def test_a_separator_is_any_run_of_newlines_semicolons_and_comments() -> None:
    text = 'deployment "T" { ; utility u ;; # note\n ; }\n;\n\nparty u "Utility" : utility ; ;\n'
    doc = compile_text(text, "t.ami")
    assert (doc["deployment"]["utility"], [p["id"] for p in doc["parties"]]) == ("u", ["u"])


def test_string_where_an_id_belongs() -> None:
    d = only(HEADER + 'party "x" : utility\n')
    assert where(d) == (3, 7)
    assert d.message == 'unexpected string "x"; expected a name'


def test_deployment_without_a_name() -> None:
    d = only("deployment { utility u }\n")
    assert where(d) == (1, 12)
    assert d.message == "unexpected '{'; expected a quoted string"


def test_bad_rule_id_in_a_waiver() -> None:
    d = only(HEADER + 'waiver avl-001 on u { reason "r"; approved_by "a"; expires 2027-01-01 }\n')
    assert where(d) == (3, 8)
    assert d.message == "unexpected 'avl'; expected a rule id such as AMI-OWN-001"


def test_trailing_comma_before_the_end_of_the_block() -> None:
    text = WORLD + "link l : m -> m { carries usage_data,\n}\n"
    d = only(text)
    assert where(d) == (6, 1)
    assert d.message.startswith("unexpected '}'; expected ")
    assert d.hint == "a ',' is followed by the next item of the list; remove the trailing ','"


def test_unterminated_string() -> None:
    text = HEADER + 'party x "abc : utility\n'
    d = only(text)
    assert where(d) == position(text, '"abc')
    assert d.message == "unterminated string"
    assert d.hint == 'a string starts and ends with " on the same line'


@pytest.mark.parametrize(
    ("line", "char", "hint"),
    [
        ("party x @ : utility", "@", "see the language reference in the README"),
        ("party café : utility", "é", "names use ASCII letters, digits and _ only"),
        ("domain f : utility_edge\ndevice m : meter in f { redundancy $ }", "$", "see the language reference in the README"),
    ],
)
def test_bad_characters(line: str, char: str, hint: str) -> None:
    text = HEADER + line + "\n"
    d = only(text)
    assert where(d) == position(text, char)
    assert d.message == f"unexpected character '{char}'"
    assert d.hint == hint


def test_list_continued_without_a_comma() -> None:
    text = WORLD + "link l : m -> m { carries meter_reads\n  usage_data }\n"
    d = only(text)
    assert where(d) == (6, 3)
    assert d.message == "unknown property 'usage_data' for a link"
    assert d.hint is not None
    assert d.hint.startswith("if this continues the list of 'carries' above, end that line with a ','; allowed properties: medium, ")


def test_list_items_without_commas_on_one_line() -> None:
    text = WORLD + "link l : m -> m { carries meter_reads usage_data }\n"
    d = only(text)
    assert where(d) == position(text, "usage_data")
    assert d.message == "'carries' expects a comma-separated list of data classes"


# --- unknown words of closed vocabularies ------------------------------------------------------
VOCABULARY_CASES = [
    # (text after HEADER, wrong word, what, close word or None, a word the listing must contain)
    ("party p : utilty\n", "utilty", "party kind", "utility", "communication_provider"),
    ("party c : customer rural\n", "rural", "customer class", None, "municipal"),
    ("agreement a : confidentiality_agreement\n", "confidentiality_agreement", "agreement kind", "confidentiality", "data_sharing"),
    ("domain f : utlity_edge\n", "utlity_edge", "domain kind", "utility_edge", "utility_enterprise"),
    ("domain f : utility_edge\ndevice m : metre in f\n", "metre", "device kind", "meter", "third_party_system"),
    ("domain f : utility_edge\ndevice m : meter in f { firmware sined }\n", "sined", "firmware value", "signed", "unsigned"),
    ("domain f : utility_edge\ndevice m : meter in f { storage encrypt }\n", "encrypt", "storage value", "encrypted", "plaintext"),
    ("domain f : utility_edge\ndevice m : meter in f { role gateway }\n", "gateway", "role", "ami_gateway", "ami_gateway"),
    ("domain f : utility_edge\ndevice m : meter in f { processing constraint }\n", "constraint", "processing value", "constrained", "normal"),
    ("domain f : utility_edge\ndevice m : meter in f { logging yes }\n", "yes", "switch value", None, "off"),
    ("domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { medium fibre }\n", "fibre", "medium", "fiber", "satellite"),
    ("domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { protocol c1222 }\n", "c1222", "protocol", "c12_22", "ieee_2030_5"),
    ("domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { encryption aes128 }\n", "aes128", "encryption", "aes_128", "ipsec"),
    ("domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { authentication mutal }\n", "mutal", "authentication", "mutual", "one_way"),
    ("domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { integrity hmac }\n", "hmac", "integrity", "mac", "signature"),
    ("domain f : utility_edge\ndevice m : meter in f\nlink l : m -> m { carries meter_reads, usage }\n", "usage", "data class", "usage_data", "audit_log"),
    ("domain f : utility_edge\ndevice m : meter in f\nflow x : meter_read from m to m\n", "meter_read", "data class", "meter_reads", "prepay_balance"),
    ("domain f : utility_edge\ndevice m : meter in f\nflow x : dr_signal from m to m { priority urgent }\n", "urgent", "priority", None, "emergency"),
    ("delegation g { from u; to u; over u; rights contrl }\n", "contrl", "right", "control", "read_data"),
]


@pytest.mark.parametrize(("body", "word", "what", "close", "listed"), VOCABULARY_CASES)
def test_unknown_words_list_the_allowed_words(body: str, word: str, what: str, close: str | None, listed: str) -> None:
    text = HEADER + body
    found = [d for d in diagnostics(text) if d.message.startswith("unknown ")]
    assert len(found) == 1
    d = found[0]
    assert d.message == f"unknown {what} '{word}'"
    assert where(d) == position(text, word, text.count(word))
    assert (d.span.end_column - d.span.column) == len(word)
    assert d.hint is not None
    if close:
        assert d.hint.startswith(f"did you mean '{close}'? allowed: ")
    else:
        assert d.hint.startswith("allowed: ")
    assert listed in d.hint.split("allowed: ")[1].split(", ")


def test_unknown_use_case_and_standard_in_the_header() -> None:
    text = 'deployment "T" {\n  utility u\n  use_cases billing.remote_reads\n  standards nist\n}\nparty u : utility\n'
    uc, std = diagnostics(text)
    assert (where(uc), uc.message) == ((3, 13), "unknown use case 'billing.remote_reads'")
    assert uc.hint is not None and uc.hint.startswith("did you mean 'billing.remote_read'? allowed: billing.remote_read, ")
    assert (where(std), std.message) == ((4, 13), "unknown standard 'nist'")
    assert std.hint == "allowed: nistir_7628, nist_800_53, nerc_cip, iec_62351, iec_62443, pci_dss"


def test_unknown_control_basis() -> None:
    text = WORLD + "device d : meter in field { control u proxy u }\n"
    d = only(text)
    assert where(d) == position(text, "proxy")
    assert d.message == "unknown control basis 'proxy'"
    assert d.hint == "did you mean 'proxy_for'? allowed bases: proxy_for, delegated_by, under"


@pytest.mark.parametrize(
    ("control", "message", "at"),
    [
        ("control u proxy_for", "'proxy_for' needs a party", "proxy_for"),
        ("control u under", "'under' needs an agreement", "under"),
        ("control u delegated_by u at admission", "expected 'on admission' after the delegating party", "at admission"),
        ("control u under a b", "unexpected 'b'", "b }"),
        ("control u, u", "'control' takes one controlling party and its basis", "control"),
    ],
)
def test_malformed_control(control: str, message: str, at: str) -> None:
    text = WORLD + f"device d : meter in field {{ {control} }}\n"
    d = only(text)
    assert d.message == message
    assert where(d) == position(text, at)
    assert d.hint is not None and "control PARTY proxy_for PARTY" in d.hint


# --- properties --------------------------------------------------------------------------------
def test_unknown_property_suggests_and_lists() -> None:
    text = WORLD + "device d : meter in field { ownr u }\n"
    d = only(text)
    assert where(d) == position(text, "ownr")
    assert d.message == "unknown property 'ownr' for a device"
    assert d.hint == (
        "did you mean 'owner'? allowed properties: owner, control, firmware, storage, tamper_detection, "
        "remote_disconnect, logging, redundancy, role, processing"
    )


def test_duplicate_property_points_at_both() -> None:
    text = WORLD + "device d : meter in field {\n  owner u\n  owner u\n}\n"
    d = only(text)
    assert where(d) == (7, 3)
    assert d.message == "'owner' is given twice"
    assert [(r.line, r.column) for r in d.related] == [(6, 3)]


def test_missing_required_properties() -> None:
    found = diagnostics(HEADER + 'delegation g { rights monitor }\nwaiver AMI-AVL-001 on u { reason "r" }\n')
    assert [(where(d), d.message) for d in found] == [
        ((3, 1), "this delegation has no 'from'"),
        ((3, 1), "this delegation has no 'to'"),
        ((3, 1), "this delegation has no 'over'"),
        ((4, 1), "this waiver has no 'approved_by'"),
        ((4, 1), "this waiver has no 'expires'"),
    ]
    assert found[0].hint == "add a line: from …"


@pytest.mark.parametrize(
    ("body", "bad", "message", "hint"),
    [
        ("link l : m -> m { latency 5x }", "5x", "'5x' is not a duration", "write a number with a unit: 500ms, 60s, 5m, 2h"),
        ("link l : m -> m { latency 30 }", "30", "'30' is not a duration", "write a number with a unit: 500ms, 60s, 5m, 2h"),
        ("link l : m -> m { latency 1.5s }", "1.5s", "'1.5s' is not a duration", "write a number with a unit: 500ms, 60s, 5m, 2h"),
        ("link l : m -> m { latency 2d }", "2d", "'2d' is not a duration", "write a number with a unit: 500ms, 60s, 5m, 2h"),
        ("link l : m -> m { bandwidth 5 }", "5 }", "'5' is not a rate", "write a number with a unit: 9600bps, 100kbps, 10mbps"),
        ("link l : m -> m { bandwidth 10mb }", "10mb", "'10mb' is not a rate", "write a number with a unit: 9600bps, 100kbps, 10mbps"),
        ("agreement a : confidentiality { expires 2027-02-30 }", "2027-02-30", "'2027-02-30' is not a date", "write a calendar date as YYYY-MM-DD: 2027-03-31"),
        ("agreement a : confidentiality { expires 2027-3-1 }", "2027-3-1", "'2027-3-1' is not a date", "write a calendar date as YYYY-MM-DD: 2027-03-31"),
        ("agreement a : confidentiality { expires tomorrow }", "tomorrow", "'tomorrow' is not a date", "write a calendar date as YYYY-MM-DD: 2027-03-31"),
        ("device d : meter x 4k in field", "4k", "'4k' is not a whole number", "write digits, optionally grouped with _: 48_000"),
        ("device d : meter x 1__000 in field", "1__000", "'1__000' is not a whole number", "write digits, optionally grouped with _: 48_000"),
        ("device d : meter in field { redundancy two }", "two", "'two' is not a whole number", "write digits, optionally grouped with _: 48_000"),
        ("device d : meter x 0 in field", "0 in", "a fleet has at least one device", "write x 1 or leave the count out"),
        (
            "device d : meter x 9_007_199_254_740_992 in field",
            "9_007",
            "9_007_199_254_740_992 is too large",
            "the largest number accepted is 9007199254740991",
        ),
    ],
)
def test_bad_values(body: str, bad: str, message: str, hint: str) -> None:
    text = WORLD + body + "\n"
    d = only(text)
    assert (where(d), d.message, d.hint) == (position(text, bad), message, hint)


@pytest.mark.parametrize(
    ("body", "at", "message"),
    [
        ('deployment "D" { utility u; version 2 }\nparty u : utility', "2 }", "'version' takes a quoted string"),
        (WORLD + "device d : meter in field { firmware signed, unsigned }", "firmware", "'firmware' takes one firmware value"),
        (WORLD + "link l : m -> m { carries }", "carries", "'carries' needs at least one data class"),
        (WORLD + "link l : m -> m { carries *, usage_data }", "carries", "'*' already means every data class"),
        (WORLD + "device d : meter in field { owner 42 }", "42", "'42' is not a party id"),
        (WORLD + "flow x : dr_signal from m to m { signed u }", "signed", "'signed' is written 'signed by PARTY'"),
        (HEADER + "party t : third_party residential", "residential", "only a customer has a class; 'third_party' does not"),
        (HEADER + "party Bad : customer", "Bad", "'Bad' is not a valid id"),
    ],
)
def test_malformed_values(body: str, at: str, message: str) -> None:
    text = body + "\n"
    d = only(text)
    assert (where(d), d.message) == (position(text, at), message)


# --- references --------------------------------------------------------------------------------
def test_undefined_reference_with_did_you_mean() -> None:
    text = WORLD + "device d : meter in feld { owner u }\n"
    d = only(text)
    assert where(d) == position(text, "feld")
    assert d.message == "unknown domain 'feld' (the domain of device d)"
    assert d.hint == "did you mean 'field'?"


def test_undefined_reference_without_a_close_match_lists_known_ids() -> None:
    text = WORLD + "device d : meter in field { owner zz }\nlink l : m -> qq\n"
    owner, end = diagnostics(text)
    assert (where(owner), owner.message, owner.hint) == ((5, 35), "unknown party 'zz' (the owner of device d)", "known parties: u")
    assert (where(end), end.message, end.hint) == ((6, 15), "unknown device 'qq' (an end of link l)", "known devices: d, m")


def test_undefined_reference_when_nothing_of_that_kind_exists() -> None:
    d = only(WORLD + "device d : meter in field { control u under msa }\n")
    assert d.message == "unknown agreement 'msa' (the agreement device d is controlled under)"
    assert d.hint == "declare the agreement first"


def test_undefined_waiver_target() -> None:
    text = HEADER + 'waiver AMI-OWN-001 on nothing { reason "r"; approved_by "a"; expires 2027-01-01 }\n'
    d = only(text)
    assert where(d) == position(text, "nothing")
    assert d.message == "unknown element 'nothing' (the element waiver AMI-OWN-001 is on)"


@pytest.mark.parametrize(
    ("body", "at", "message"),
    [
        ("device d : meter in field { owner field }", "field }", "'field' is a domain, but the owner of device d must be a party"),
        ("device d : meter in u", "u\n", "'u' is a party, but the domain of device d must be a domain"),
        ("agreement a : service_contract\ndevice d : meter in field { control a }", "a }", "'a' is an agreement, but the controller of device d must be a party"),
        ("link l : m -> field", "field\n", "'field' is a domain, but an end of link l must be a device"),
        ("flow x : dr_signal from m to m { signed by field }", "field }", "'field' is a domain, but the signer of flow x must be a party"),
        ("delegation g { from u; to u; over u }", "u }", "'u' is a party, but what delegation g is over must be a device"),
        ("agreement a : service_contract { covers u }", "u }", "'u' is a party, but what agreement a covers must be a device or link"),
        ("device d : meter in field { control u proxy_for field }", "field }",
         "'field' is a domain, but the party proxy_for of device d must be a party"),
        ("domain home : premise_edge { customer m }", "m }", "'m' is a device, but the customer of domain home must be a party"),
        ("agreement a : service_contract\ndevice d : meter in field { control u under u }", "u }",
         "'u' is a party, but the agreement device d is controlled under must be an agreement"),
    ],
)
def test_reference_to_the_wrong_kind_of_element(body: str, at: str, message: str) -> None:
    text = WORLD + body + "\n"
    d = only(text)
    assert (where(d), d.message) == (position(text, at, text.count(at)), message)
    assert d.related and d.hint is not None and d.hint.endswith(f"is declared on line {d.related[0].line}")


def test_deployment_utility_must_be_a_utility() -> None:
    d = only('deployment "D" { utility p }\nparty p : peer_utility\n')
    assert (where(d), d.message) == ((1, 26), "the deployment's utility 'p' is a peer_utility party, not a utility")
    assert d.hint == 'declare it as: party p "…" : utility'


# --- ids ---------------------------------------------------------------------------------------
def test_duplicate_ids_name_both_lines() -> None:
    d = only(WORLD + "device field : meter in field\n")
    assert where(d) == (5, 1)
    assert d.message == "duplicate id 'field': already used by the domain on line 3"
    assert [r.line for r in d.related] == [3]


def test_duplicate_id_is_reported_on_the_later_line_whatever_the_kinds() -> None:
    d = only(HEADER + "domain f : utility_edge\nparty f : customer\n")
    assert where(d) == (4, 1)
    assert d.message == "duplicate id 'f': already used by the domain on line 3"


def test_an_id_declared_three_times_names_the_first_in_source_order_whatever_the_kinds() -> None:
    text = HEADER + "domain d : utility_edge\ndevice x : meter in d\nparty x : customer\ndomain x : communication\n"
    found = diagnostics(text)
    assert [(where(d), d.message, [r.line for r in d.related]) for d in found] == [
        ((5, 1), "duplicate id 'x': already used by the device on line 4", [4]),
        ((6, 1), "duplicate id 'x': already used by the device on line 4", [4]),
    ]


def test_no_deployment_and_two_deployments() -> None:
    d = only('party u : utility\n')
    assert (where(d), d.message) == ((1, 1), "no deployment block")
    d = only(HEADER + 'deployment "Again" { utility u }\n')
    assert (where(d), d.message) == ((3, 1), "a file describes one deployment; this is a second deployment block")
    assert [r.line for r in d.related] == [1]
    d = only('deployment "D" { version "1" }\n')
    assert (where(d), d.message) == ((1, 1), "this deployment has no 'utility'")


def test_every_semantic_error_is_reported_in_one_run() -> None:
    text = (
        HEADER
        + """domain field : utility_edge
domain field : communication
device m : meter in feld { owner v; firmware sined }
link l : m -> n { encryption aes_512 }
flow x : meter_reads from m to m { latency soon; colour red }
"""
    )
    found = diagnostics(text)
    assert [(where(d), d.message) for d in found] == [
        ((4, 1), "duplicate id 'field': already used by the domain on line 3"),
        (position(text, "feld"), "unknown domain 'feld' (the domain of device m)"),
        (position(text, "v;"), "unknown party 'v' (the owner of device m)"),
        (position(text, "sined"), "unknown firmware value 'sined'"),
        (position(text, "n {"), "unknown device 'n' (an end of link l)"),
        (position(text, "aes_512"), "unknown encryption 'aes_512'"),
        (position(text, "soon"), "'soon' is not a duration"),
        (position(text, "colour"), "unknown property 'colour' for a flow"),
    ]
    rendered = str(InputError(found, {"t.ami": text}))
    assert rendered.endswith("\n8 errors")
    assert rendered.count("t.ami:") == 8 + 1  # eight diagnostics and the related line of the duplicate


def test_rendering_shows_the_line_and_underlines_the_word() -> None:
    text = HEADER + "domain f : utlity_edge\n"
    with pytest.raises(InputError) as info:
        compile_text(text, "t.ami")
    lines = str(info.value).splitlines()
    assert lines[0] == "t.ami:3:12: error: unknown domain kind 'utlity_edge'"
    assert lines[1] == "    3 | domain f : utlity_edge"
    assert lines[2] == "      |            ^^^^^^^^^^^"
    assert lines[3].startswith("  hint: did you mean 'utility_edge'? allowed: utility_edge, premise_edge")
    assert lines[-1] == "1 error"


# --- edge inputs through the command line ------------------------------------------------------
def run_cli(tmp_path: Path, name: str, data: bytes) -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["compile", str(path)])
    assert "Traceback" not in result.stderr + result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("data", "line", "col", "message"),
    [
        (b"", 1, 1, "no deployment block"),
        (b"\n\n   \n# only a comment\n", 1, 1, "no deployment block"),
        (b'deployment "x\x00y" { utility u }', 1, 14, "this is a binary file, not a deployment description"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 3, 1, "this is a binary file, not a deployment description"),
        (b'deployment "caf\xe9" { utility u }\n', 1, 16, "the file is not valid UTF-8 (byte 0xe9)"),
        (b'deployment "T" { utility u }\r\nparty u : utility\r\ndomain f : utlity_edge\r\n', 3, 12, "unknown domain kind 'utlity_edge'"),
        (b'\xef\xbb\xbfdeployment "T" { utility uu }\nparty u : utility\n', 1, 26, "unknown party 'uu' (the deployment's utility)"),
        (b'deployment "T" {\n\tutility u\n}\nparty u : utility\ndomain\tf\t:\tutlity_edge\n', 5, 12, "unknown domain kind 'utlity_edge'"),
        (b'deployment "T" { utility u', 1, 27, "unexpected end of file; expected one of '*', ',', ';', '}', a name, a number, a quoted string, the end of the line"),
    ],
    ids=["empty", "blank-and-comment", "nul", "png", "latin-1", "crlf", "bom", "tabs", "truncated"],
)
def test_edge_inputs_exit_2_with_a_position(tmp_path: Path, data: bytes, line: int, col: int, message: str) -> None:
    code, out, err = run_cli(tmp_path, "plan.ami", data)
    assert code == 2
    assert out == ""
    first = err.splitlines()[0]
    assert first == f"{tmp_path / 'plan.ami'}:{line}:{col}: error: {message}"


def test_valid_file_with_crlf_bom_and_tabs_compiles(tmp_path: Path) -> None:
    text = '\ufeffdeployment "T" {\r\n\tutility u\r\n}\r\nparty u : utility\r\n'
    code, out, err = run_cli(tmp_path, "ok.ami", text.encode("utf-8"))
    assert (code, err) == (0, "")
    assert '"schema_version": "1.0"' in out


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["compile", str(tmp_path / "absent.ami")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"{tmp_path / 'absent.ami'}:1:1: error: cannot read ")
    assert "Traceback" not in result.stderr


def test_cli_prints_every_error_with_source_lines(tmp_path: Path) -> None:
    text = HEADER + "domain f : utlity_edge\ndevice m : metre in f\n"
    code, out, err = run_cli(tmp_path, "two.ami", text.encode())
    assert code == 2 and out == ""
    assert f"{tmp_path / 'two.ami'}:3:12: error: unknown domain kind 'utlity_edge'" in err
    assert f"{tmp_path / 'two.ami'}:4:12: error: unknown device kind 'metre'" in err
    assert "    4 | device m : metre in f" in err
    assert err.rstrip().endswith("2 errors")
