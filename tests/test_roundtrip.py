"""Property tests: random valid deployments, written in random (valid) layouts, compile to exactly
the values they state; `fmt` is idempotent, keeps every comment, and changes nothing the policies
see.

The generator draws a deployment as data (parties, agreements, domains, devices, links, flows,
delegations, waivers with random valid properties and references), renders it with random layout
choices (one-line blocks with `;`, one property per line, lists broken after commas, comments at
line ends and on lines of their own, blank lines, top-level `;`), and records the value every
compiled field must have.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from amisec.compiler import compile_text

# --- vocabularies (DESIGN.md) ------------------------------------------------------------------
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
DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
RATE_UNITS = {"bps": 1, "kbps": 1_000, "mbps": 1_000_000, "gbps": 1_000_000_000}
# Words of the grammar are valid ids too; the generator uses them on purpose.
KEYWORDS = [
    "deployment", "party", "agreement", "domain", "device", "link", "flow", "delegation", "waiver",
    "in", "x", "from", "to", "on", "by", "under", "proxy_for", "delegated_by", "admission", "signed",
]
# Characters that have a meaning elsewhere in the language, inside strings and comments, and
# characters str.splitlines() breaks lines at although the parser does not.
TRICKY = '#{};,*"\\é—\t\x0c\x85\u2028'

ids = st.one_of(st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True), st.sampled_from(KEYWORDS))
free_text = st.text(alphabet=st.one_of(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), st.sampled_from(TRICKY)), max_size=16)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))


def quote(raw: str) -> str:
    return '"' + raw.replace("\\", "\\\\").replace('"', '\\"') + '"'


def grouped(n: int, underscores: bool) -> str:
    return f"{n:_}" if underscores else str(n)


# --- what is written, and what it must compile to ----------------------------------------------
@dataclass
class Prop:
    name: str
    items: list[str]  # one item for single-valued properties; a list property may have several
    is_list: bool = False


@dataclass
class Stmt:
    header: str
    props: list[Prop] = field(default_factory=list)
    block: bool = True  # parties never have a block; other statements may omit an empty one


@dataclass
class Drawn:
    statements: list[Stmt]
    expected: dict[tuple[str, str], dict[str, Any]]  # (collection, id) -> compiled fields
    deployment: dict[str, Any]


def pick(draw: st.DrawFn, values: list[str]) -> str:
    return draw(st.sampled_from(values))


def some(draw: st.DrawFn, values: list[str], min_size: int = 1, max_size: int = 4) -> list[str]:
    return draw(st.lists(st.sampled_from(values), min_size=min_size, max_size=max_size, unique=True))


def maybe(draw: st.DrawFn) -> bool:
    return draw(st.booleans())


def duration(draw: st.DrawFn) -> tuple[str, float]:
    n, unit = draw(st.integers(0, 10**6)), pick(draw, list(DURATION_UNITS))
    return grouped(n, maybe(draw)) + unit, n * DURATION_UNITS[unit]


def rate(draw: st.DrawFn) -> tuple[str, int]:
    n, unit = draw(st.integers(0, 10**6)), pick(draw, list(RATE_UNITS))
    return grouped(n, maybe(draw)) + unit, n * RATE_UNITS[unit]


@st.composite
def deployments(draw: st.DrawFn) -> Drawn:
    n = {
        "party": draw(st.integers(1, 4)),
        "agreement": draw(st.integers(0, 3)),
        "domain": draw(st.integers(1, 3)),
        "device": draw(st.integers(1, 5)),
        "link": draw(st.integers(0, 5)),
        "flow": draw(st.integers(0, 3)),
        "delegation": draw(st.integers(0, 2)),
    }
    names = iter(draw(st.lists(ids, min_size=sum(n.values()), max_size=sum(n.values()), unique=True)))
    id_of = {kind: [next(names) for _ in range(count)] for kind, count in n.items()}
    parties, agreements, domains, devices, links = (id_of[k] for k in ("party", "agreement", "domain", "device", "link"))
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    statements: list[Stmt] = []
    party_kind = {p: "utility" if i == 0 else pick(draw, PARTY_KINDS) for i, p in enumerate(parties)}
    utility = parties[0]

    # deployment
    dep = {"name": draw(free_text), "utility": utility, "version": None, "use_cases": [], "standards": []}
    props = [Prop("utility", [utility])]
    if maybe(draw):
        dep["version"] = draw(free_text)
        props.append(Prop("version", [quote(dep["version"])]))
    if maybe(draw):
        dep["use_cases"] = some(draw, USE_CASES, max_size=6)
        props.append(Prop("use_cases", dep["use_cases"], True))
    if maybe(draw):
        dep["standards"] = some(draw, STANDARDS)
        props.append(Prop("standards", dep["standards"], True))
    statements.append(Stmt(f"deployment {quote(dep['name'])}", draw(st.permutations(props))))

    for p in parties:
        kind = party_kind[p]
        name = draw(st.none() | free_text)
        klass = pick(draw, CUSTOMER_CLASSES) if kind == "customer" and maybe(draw) else None
        header = f"party {p}" + (f" {quote(name)}" if name is not None else "") + f" : {kind}" + (f" {klass}" if klass else "")
        statements.append(Stmt(header, block=False))
        expected[("parties", p)] = {"kind": kind, "name": name, "customer_class": klass, "is_utility": p == utility}

    for a in agreements:
        kind, props, exp = pick(draw, AGREEMENT_KINDS), [], {"between": [], "covers": [], "data": [], "reference": None, "expires": None}
        if maybe(draw):
            exp["between"] = some(draw, parties, max_size=3)
            props.append(Prop("between", exp["between"], True))
        if maybe(draw):
            exp["covers"] = some(draw, devices + links, max_size=3)
            props.append(Prop("covers", exp["covers"], True))
        if maybe(draw):
            star = maybe(draw)
            exp["data"] = DATA_CLASSES if star else some(draw, DATA_CLASSES)
            props.append(Prop("data", ["*"] if star else exp["data"], True))
        if maybe(draw):
            exp["reference"] = draw(free_text)
            props.append(Prop("reference", [quote(exp["reference"])]))
        if maybe(draw):
            exp["expires"] = draw(dates).isoformat()
            props.append(Prop("expires", [exp["expires"]]))
        statements.append(Stmt(f"agreement {a} : {kind}", draw(st.permutations(props)), block=bool(props) or maybe(draw)))
        expected[("agreements", a)] = {"kind": kind, **exp}

    for d in domains:
        kind, props, customer = pick(draw, DOMAIN_KINDS), [], None
        if maybe(draw):
            customer = pick(draw, parties)
            props.append(Prop("customer", [customer]))
        statements.append(Stmt(f"domain {d} : {kind}", props, block=bool(props) or maybe(draw)))
        expected[("domains", d)] = {"kind": kind, "customer": customer}

    for d in devices:
        statements.append(device(draw, d, parties, agreements, domains, expected))

    for link_id in links:
        statements.append(link(draw, link_id, devices, expected))

    for f in id_of["flow"]:
        data, src, dst = pick(draw, DATA_CLASSES), pick(draw, devices), pick(draw, devices)
        exp: dict[str, Any] = {"data": data, "from": src, "to": dst, "signed_by": None, "non_repudiation": False, "logged": False, "latency_s": None, "priority": "normal"}
        props = []
        if maybe(draw):
            exp["signed_by"] = pick(draw, parties)
            props.append(Prop("signed", [f"by {exp['signed_by']}"]))
        for switch in ("non_repudiation", "logged"):
            if maybe(draw):
                exp[switch] = maybe(draw)
                props.append(Prop(switch, ["on" if exp[switch] else "off"]))
        if maybe(draw):
            written, exp["latency_s"] = duration(draw)
            props.append(Prop("latency", [written]))
        if maybe(draw):
            exp["priority"] = pick(draw, ["emergency", "high", "normal"])
            props.append(Prop("priority", [exp["priority"]]))
        statements.append(Stmt(f"flow {f} : {data} from {src} to {dst}", draw(st.permutations(props)), block=bool(props) or maybe(draw)))
        expected[("flows", f)] = exp

    for g in id_of["delegation"]:
        src, dst, over = pick(draw, parties), pick(draw, parties), some(draw, devices, max_size=3)
        exp = {"from": src, "to": dst, "over": over, "rights": [], "consent": None, "logged": False, "non_repudiation": False, "expires": None}
        props = [Prop("from", [src]), Prop("to", [dst]), Prop("over", over, True)]
        if maybe(draw):
            exp["rights"] = some(draw, RIGHTS)
            props.append(Prop("rights", exp["rights"], True))
        if agreements and maybe(draw):
            exp["consent"] = pick(draw, agreements)
            props.append(Prop("consent", [exp["consent"]]))
        for switch in ("logged", "non_repudiation"):
            if maybe(draw):
                exp[switch] = maybe(draw)
                props.append(Prop(switch, ["on" if exp[switch] else "off"]))
        if maybe(draw):
            exp["expires"] = draw(dates).isoformat()
            props.append(Prop("expires", [exp["expires"]]))
        statements.append(Stmt(f"delegation {g}", draw(st.permutations(props))))
        expected[("delegations", g)] = exp

    everything = [(c, i) for c, kind in (("parties", "party"), ("agreements", "agreement"), ("domains", "domain"), ("devices", "device"), ("links", "link"), ("flows", "flow"), ("delegations", "delegation")) for i in id_of[kind]]
    for w in range(draw(st.integers(0, 2))):
        collection, on = draw(st.sampled_from(everything))
        rule = draw(st.from_regex(r"AMI-[A-Z]{3}-", fullmatch=True)) + f"{w:03d}"  # unique: the key below
        reason, approver, expires = draw(free_text), draw(free_text), draw(dates).isoformat()
        props = [Prop("reason", [quote(reason)]), Prop("approved_by", [quote(approver)]), Prop("expires", [expires])]
        statements.append(Stmt(f"waiver {rule} on {on}", draw(st.permutations(props))))
        expected[("waivers", rule)] = {"rule": rule, "on": on, "on_collection": collection, "reason": reason, "approved_by": approver, "expires": expires}

    order = draw(st.permutations(range(1, len(statements))))  # any statement order is valid
    return Drawn([statements[0]] + [statements[i] for i in order], expected, dep)


def device(draw: st.DrawFn, d: str, parties: list[str], agreements: list[str], domains: list[str], expected: dict) -> Stmt:
    kind, domain = pick(draw, DEVICE_KINDS), pick(draw, domains)
    exp: dict[str, Any] = {
        "kind": kind, "count": 1, "domain": domain, "owner": None, "control_by": None, "control_basis": "none",
        "control_for": None, "control_on_admission": False, "control_agreement": None, "firmware": "unsigned",
        "storage": "plaintext", "tamper_detection": False, "remote_disconnect": False, "logging": False,
        "redundancy": 1, "role": None, "processing": "normal",
    }
    count = ""
    if maybe(draw):
        exp["count"] = draw(st.integers(1, 10**7))
        count = f" x {grouped(exp['count'], maybe(draw))}"
    props = []
    if maybe(draw):
        exp["owner"] = pick(draw, parties)
        props.append(Prop("owner", [exp["owner"]]))
    if maybe(draw):
        by = exp["control_by"] = pick(draw, parties)
        basis = pick(draw, ["owner", "proxy_for", "delegated_by"] + (["under"] if agreements else []))
        exp["control_basis"] = basis
        if basis == "owner":
            props.append(Prop("control", [by]))
        elif basis == "under":
            exp["control_agreement"] = pick(draw, agreements)
            props.append(Prop("control", [f"{by} under {exp['control_agreement']}"]))
        else:
            exp["control_for"] = pick(draw, parties)
            exp["control_on_admission"] = basis == "delegated_by" and maybe(draw)
            props.append(Prop("control", [f"{by} {basis} {exp['control_for']}" + (" on admission" if exp["control_on_admission"] else "")]))
    for name, values in (("firmware", ["signed", "unsigned"]), ("storage", ["encrypted", "plaintext"]), ("role", ["ami_gateway"]), ("processing", ["normal", "constrained"])):
        if maybe(draw):
            exp[name] = pick(draw, values)
            props.append(Prop(name, [exp[name]]))
    for switch in ("tamper_detection", "remote_disconnect", "logging"):
        if maybe(draw):
            exp[switch] = maybe(draw)
            props.append(Prop(switch, ["on" if exp[switch] else "off"]))
    if maybe(draw):
        exp["redundancy"] = draw(st.integers(0, 100_000))
        props.append(Prop("redundancy", [grouped(exp["redundancy"], maybe(draw))]))
    expected[("devices", d)] = exp
    return Stmt(f"device {d} : {kind}{count} in {domain}", draw(st.permutations(props)), block=bool(props) or maybe(draw))


def link(draw: st.DrawFn, link_id: str, devices: list[str], expected: dict) -> Stmt:
    src, dst, both = pick(draw, devices), pick(draw, devices), maybe(draw)
    exp: dict[str, Any] = {
        "from": src, "to": dst, "bidirectional": both, "medium": None, "protocol": None, "encryption": "none",
        "authentication": "none", "integrity": "none", "carries": [], "carries_all": False, "latency_s": None,
        "bandwidth_bps": None,
    }
    props = []
    for name, values in (("medium", MEDIA), ("protocol", PROTOCOLS), ("encryption", ENCRYPTION), ("authentication", AUTHENTICATION), ("integrity", INTEGRITY)):
        if maybe(draw):
            exp[name] = pick(draw, values)
            props.append(Prop(name, [exp[name]]))
    if maybe(draw):
        exp["carries_all"] = maybe(draw)
        exp["carries"] = DATA_CLASSES if exp["carries_all"] else some(draw, DATA_CLASSES, max_size=8)
        props.append(Prop("carries", ["*"] if exp["carries_all"] else exp["carries"], True))
    if maybe(draw):
        written, exp["latency_s"] = duration(draw)
        props.append(Prop("latency", [written]))
    if maybe(draw):
        written, exp["bandwidth_bps"] = rate(draw)
        props.append(Prop("bandwidth", [written]))
    expected[("links", link_id)] = exp
    return Stmt(f"link {link_id} : {src} {'<->' if both else '->'} {dst}", draw(st.permutations(props)), block=bool(props) or maybe(draw))


# --- rendering ---------------------------------------------------------------------------------
class Writer:
    """Renders statements with layout choices drawn from hypothesis; remembers every comment."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.comments: list[str] = []

    def comment(self) -> str:
        text = f"# c{len(self.comments)} " + self.draw(free_text).replace("\n", " ")
        self.comments.append(text.rstrip())
        return text

    def end_comment(self) -> str:
        return "  " + self.comment() if self.draw(st.integers(0, 4)) == 0 else ""

    def prop(self, p: Prop, indent: str) -> str:
        if not p.is_list or len(p.items) == 1:
            return f"{p.name} {' '.join(p.items)}"
        out = f"{p.name} {p.items[0]}"
        for item in p.items[1:]:
            if self.draw(st.integers(0, 2)) == 0:
                lines = [self.end_comment()]
                if self.draw(st.integers(0, 3)) == 0:
                    lines.append("\n" + indent + "    " + self.comment())
                out += "," + lines[0] + "".join(lines[1:]) + "\n" + indent + "    " + item
            else:
                out += ", " + item
        return out

    def statement(self, s: Stmt) -> str:
        if not s.block:
            return s.header
        if not s.props:
            return s.header + self.draw(st.sampled_from([" {}", " { }", " {\n}", " { ; }"]))
        if self.draw(st.booleans()):
            inner = "; ".join(self.prop(p, "") for p in s.props)
            return f"{s.header} {{ {inner} }}"
        lines = [s.header + " {" + self.end_comment()]
        for p in s.props:
            if self.draw(st.integers(0, 5)) == 0:
                lines.append("  " + self.comment())
            if self.draw(st.integers(0, 6)) == 0:
                lines.append("")
            lines.append("  " + self.prop(p, "  ") + self.end_comment())
        lines.append("}")
        return "\n".join(lines)

    def document(self, statements: list[Stmt]) -> str:
        out = self.comment() + "\n" if self.draw(st.booleans()) else ""
        for i, s in enumerate(statements):
            if i and self.draw(st.integers(0, 5)) == 0 and not out.endswith("}"):
                out += "; "
            elif i:
                out += self.end_comment() + "\n" + ("\n" if self.draw(st.integers(0, 3)) == 0 else "")
                if self.draw(st.integers(0, 5)) == 0:
                    out += self.comment() + "\n"
            out += self.statement(s)
        return out + ("\n" if self.draw(st.booleans()) else "")


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, Drawn, list[str]]:
    drawn = draw(deployments())
    writer = Writer(draw)
    return writer.document(drawn.statements), drawn, writer.comments


# --- the properties ----------------------------------------------------------------------------
def by_id(doc: dict) -> dict[tuple[str, str], dict]:
    out = {(c, e["id"]): e for c in ("parties", "agreements", "domains", "devices", "links", "flows", "delegations") for e in doc[c]}
    out.update({("waivers", w["rule"]): w for w in doc["waivers"]})
    return out


def without_positions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_positions(v) for k, v in value.items() if k not in ("span", "sha256")}
    if isinstance(value, list):
        return [without_positions(v) for v in value]
    return value


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(documents())
def test_random_deployments_compile_to_what_they_state(case: tuple[str, Drawn, list[str]]) -> None:
    text, drawn, _ = case
    doc = compile_text(text, "gen.ami")
    assert {k: doc["deployment"][k] for k in drawn.deployment} == drawn.deployment
    got = by_id(doc)
    assert got.keys() == drawn.expected.keys()
    for key, fields in drawn.expected.items():
        element = got[key]
        for name, value in fields.items():
            if isinstance(value, float):
                assert element[name] == pytest.approx(value), (key, name)
            else:
                assert element[name] == value, (key, name, text)


@SETTINGS
@given(documents())
def test_fmt_is_idempotent_keeps_comments_and_meaning(case: tuple[str, Drawn, list[str]]) -> None:
    fmt = pytest.importorskip("amisec.compiler.fmt", reason="amisec.compiler.fmt is not there yet")
    text, _, comments = case
    formatted = fmt.format_text(text, "gen.ami")
    assert fmt.format_text(formatted, "gen.ami") == formatted
    assert without_positions(compile_text(formatted, "gen.ami")) == without_positions(compile_text(text, "gen.ami"))
    for comment in comments:
        assert comment in formatted, comment
    assert formatted.endswith("\n") and not formatted.endswith("\n\n")
