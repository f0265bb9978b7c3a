"""Parse tree → model. Gives every property its meaning and collects every problem it finds."""
from __future__ import annotations

import re
from typing import Any, Callable

from lark import Token, Tree

from . import values as v
from .diagnostics import Diagnostic, Span, allowed_words_hint, suggest
from .model import Agreement, Control, Deployment, Delegation, Device, Domain, Flow, Link, Model, Party, Ref, Waiver
from .vocab import (
    AGREEMENT_KINDS,
    AUTHENTICATION,
    CUSTOMER_CLASSES,
    DATA_CLASSES,
    DEVICE_KINDS,
    DOMAIN_KINDS,
    ENCRYPTION,
    FIRMWARE,
    INTEGRITY,
    MEDIA,
    PARTY_KINDS,
    PRIORITIES,
    PROCESSING,
    PROTOCOLS,
    RIGHTS,
    ROLES,
    STANDARDS,
    STORAGE,
    USE_CASES,
)

_ID = re.compile(r"^[a-z_][a-z0-9_]*$")

# Each statement kind: property name → value parser. The order is the canonical order `fmt` keeps.
PROPERTIES: dict[str, dict[str, Callable[[v.Written], Any]]] = {
    "deployment": {
        "utility": v.ref("party"),
        "version": v.string,
        "use_cases": v.words_of(USE_CASES, "use case"),
        "standards": v.words_of(STANDARDS, "standard"),
    },
    "agreement": {
        "between": v.refs("party"),
        "covers": v.refs("element"),
        "data": v.data_classes,
        "reference": v.string,
        "expires": v.date,
    },
    "domain": {"customer": v.ref("party")},
    "device": {
        "owner": v.ref("party"),
        "control": v.control,
        "firmware": v.word_of(FIRMWARE, "firmware value"),
        "storage": v.word_of(STORAGE, "storage value"),
        "tamper_detection": v.switch,
        "remote_disconnect": v.switch,
        "logging": v.switch,
        "redundancy": v.integer,
        "role": v.word_of(ROLES, "role"),
        "processing": v.word_of(PROCESSING, "processing value"),
    },
    "link": {
        "medium": v.word_of(MEDIA, "medium"),
        "protocol": v.word_of(PROTOCOLS, "protocol"),
        "encryption": v.word_of(ENCRYPTION, "encryption"),
        "authentication": v.word_of(AUTHENTICATION, "authentication"),
        "integrity": v.word_of(INTEGRITY, "integrity"),
        "carries": v.data_classes,
        "latency": v.duration,
        "bandwidth": v.rate,
    },
    "flow": {
        "signed": v.signed_by,
        "non_repudiation": v.switch,
        "logged": v.switch,
        "latency": v.duration,
        "priority": v.word_of(PRIORITIES, "priority"),
    },
    "delegation": {
        "from": v.ref("party"),
        "to": v.ref("party"),
        "over": v.refs("device"),
        "rights": v.words_of(RIGHTS, "right"),
        "consent": v.ref("agreement"),
        "logged": v.switch,
        "non_repudiation": v.switch,
        "expires": v.date,
    },
    "waiver": {
        "reason": v.string,
        "approved_by": v.string,
        "expires": v.date,
    },
}

# Properties that take a comma-separated list, which may continue on the next line after a ','.
LIST_PROPERTIES = frozenset({"use_cases", "standards", "between", "covers", "data", "carries", "over", "rights"})

REQUIRED = {
    "deployment": ("utility",),
    "delegation": ("from", "to", "over"),
    "waiver": ("reason", "approved_by", "expires"),
}

PLURAL = {
    "party": "parties",
    "agreement": "agreements",
    "domain": "domains",
    "device": "devices",
    "link": "links",
    "flow": "flows",
    "delegation": "delegations",
    "waiver": "waivers",
}
STATEMENTS = ("deployment", "party", "agreement", "domain", "device", "link", "flow", "delegation", "waiver")


def _last_token(tree: Tree) -> Token:
    for child in reversed(tree.children):
        if isinstance(child, Token):
            return child
        if isinstance(child, Tree):
            return _last_token(child)
    raise ValueError(f"a {tree.data} without tokens")


class Builder:
    """Builds a `Model` from a parse tree; `problems` holds every diagnostic found on the way."""

    def __init__(self, file: str, sha256: str) -> None:
        self.file = file
        self.sha256 = sha256
        self.problems: list[Diagnostic] = []
        self.elements: dict[str, list[Any]] = {k: [] for k in STATEMENTS}

    def build(self, tree: Tree) -> Model:
        """The model of a whole file's parse tree."""
        self.add(tree)
        return self.model()

    def add(self, tree: Tree) -> None:
        """Add the statements of a parse tree (a whole file or a piece of one, in order)."""
        for stmt in tree.children:
            if isinstance(stmt, Tree):
                getattr(self, f"_{stmt.data}")(stmt)

    def model(self) -> Model:
        """The model of every statement added, with the checks that need the whole file."""
        deployments = self.elements["deployment"]
        if not deployments:
            self._problem(Span(self.file, 1, 1, 1, 2), "no deployment block", 'start the file with: deployment "Name" { utility <party> }')
        for extra in deployments[1:]:
            self._problem(extra.span, "a file describes one deployment; this is a second deployment block", None, (deployments[0].span,))
        return Model(
            file=self.file,
            sha256=self.sha256,
            deployment=deployments[0] if deployments else None,
            **{PLURAL[k]: tuple(self.elements[k]) for k in STATEMENTS if k != "deployment"},
        )

    # --- helpers -----------------------------------------------------------------------------
    def _problem(self, span: Span, message: str, hint: str | None = None, related: tuple[Span, ...] = ()) -> None:
        self.problems.append(Diagnostic(span, message, hint, related))

    def _span(self, statement: Tree) -> Span:
        """From the statement's word to its last token (the closing brace of a block)."""
        first, last = statement.children[0], _last_token(statement)
        return Span(self.file, first.line, first.column, last.end_line, last.end_column)

    def _tok_span(self, tok: Token) -> Span:
        return v.token_span(self.file, tok)

    def _id(self, tok: Token) -> str:
        if not _ID.match(tok):
            self._problem(self._tok_span(tok), f"'{tok}' is not a valid id", "ids are lower-case words: [a-z_][a-z0-9_]*, e.g. head_end")
        return v.word(tok)

    def _word(self, tok: Token | None, vocab: tuple[str, ...], what: str) -> str:
        if tok is None:
            return ""
        if str(tok) not in vocab:
            self._problem(self._tok_span(tok), f"unknown {what} '{tok}'", allowed_words_hint(str(tok), vocab))
        return v.word(tok)

    def _ref(self, tok: Token) -> Ref:
        return Ref(self._id(tok), self._tok_span(tok))

    def _properties(self, kind: str, block: Tree | None, header: Span) -> dict[str, Any]:
        specs = PROPERTIES[kind]
        found: dict[str, Any] = {}
        # what each property wrote; its span (a dataclass made per property) only for a duplicate
        seen: dict[str, v.Written] = {}
        previous: str | None = None
        for prop in block.children if block is not None else ():
            if not isinstance(prop, Tree):
                continue
            name_tok = prop.children[0]
            name = str(name_tok)
            groups = tuple(tuple(g.children) for g in prop.children[1:] if isinstance(g, Tree))
            written = v.Written(name, self.file, name_tok, groups)
            after, previous = previous, name
            if name not in specs:
                hint = allowed_words_hint(name, tuple(specs), "allowed properties")
                if after in LIST_PROPERTIES and not suggest(name, tuple(specs)):
                    hint = f"if this continues the list of '{after}' above, end that line with a ','; {hint}"
                self._problem(self._tok_span(name_tok), f"unknown property '{name}' for a {kind}", hint)
                continue
            if name in seen:
                self._problem(written.span, f"'{name}' is given twice", "keep one of them", (seen[name].span,))
                continue
            seen[name] = written
            try:
                found[name] = specs[name](written)
            except v.Problem as p:
                self.problems.append(p.diagnostic)
        for name in REQUIRED.get(kind, ()):
            if name not in seen:
                self._problem(header, f"this {kind} has no '{name}'", f"add a line: {name} …")
        return found

    # --- statements --------------------------------------------------------------------------
    def _deployment(self, t: Tree) -> None:
        _, name, block = t.children
        span = self._span(t)
        p = self._properties("deployment", block, span)
        self.elements["deployment"].append(
            Deployment(v.unquote(name), p.get("utility"), p.get("version"), p.get("use_cases", ()), p.get("standards", ()), span)
        )

    def _party(self, t: Tree) -> None:
        _, ident, name, kind, cls = t.children
        kind_s = self._word(kind, PARTY_KINDS, "party kind")
        klass = None
        if cls is not None:
            if kind_s != "customer":
                self._problem(self._tok_span(cls), f"only a customer has a class; '{kind_s}' does not", "remove the word")
            klass = self._word(cls, CUSTOMER_CLASSES, "customer class")
        name_s = v.unquote(name) if name is not None else None
        self.elements["party"].append(Party(self._id(ident), name_s, kind_s, klass, self._span(t)))

    def _agreement(self, t: Tree) -> None:
        _, ident, kind, block = t.children
        span = self._span(t)
        p = self._properties("agreement", block, span)
        data = p.get("data", ((), False))[0]
        self.elements["agreement"].append(
            Agreement(
                self._id(ident),
                self._word(kind, AGREEMENT_KINDS, "agreement kind"),
                p.get("between", ()),
                p.get("covers", ()),
                tuple(data),
                p.get("reference"),
                p.get("expires"),
                span,
            )
        )

    def _domain(self, t: Tree) -> None:
        _, ident, kind, block = t.children
        span = self._span(t)
        p = self._properties("domain", block, span)
        self.elements["domain"].append(Domain(self._id(ident), self._word(kind, DOMAIN_KINDS, "domain kind"), p.get("customer"), span))

    def _device(self, t: Tree) -> None:
        _, ident, kind, count, domain, block = t.children
        span = self._span(t)
        p = self._properties("device", block, span)
        n = 1
        if count is not None:
            written = v.Written("x", self.file, count.children[0], ((count.children[0],),))
            try:
                n = v.integer(written)
                if n < 1:
                    self._problem(self._tok_span(count.children[0]), "a fleet has at least one device", "write x 1 or leave the count out")
            except v.Problem as pr:
                self.problems.append(pr.diagnostic)
        self.elements["device"].append(
            Device(
                id=self._id(ident),
                kind=self._word(kind, DEVICE_KINDS, "device kind"),
                count=n,
                domain=self._ref(domain),
                owner=p.get("owner"),
                control=p.get("control"),
                firmware=p.get("firmware", "unsigned"),
                storage=p.get("storage", "plaintext"),
                tamper_detection=p.get("tamper_detection", False),
                remote_disconnect=p.get("remote_disconnect", False),
                logging=p.get("logging", False),
                redundancy=p.get("redundancy", 1),
                role=p.get("role"),
                processing=p.get("processing", "normal"),
                span=span,
            )
        )

    def _link(self, t: Tree) -> None:
        _, ident, source, arrow, target, block = t.children
        span = self._span(t)
        p = self._properties("link", block, span)
        carries, star = p.get("carries", ((), False))
        self.elements["link"].append(
            Link(
                id=self._id(ident),
                source=self._ref(source),
                target=self._ref(target),
                bidirectional=str(arrow) == "<->",
                medium=p.get("medium"),
                protocol=p.get("protocol"),
                encryption=p.get("encryption", "none"),
                authentication=p.get("authentication", "none"),
                integrity=p.get("integrity", "none"),
                carries=tuple(carries),
                carries_all=star,
                latency_s=p.get("latency"),
                bandwidth_bps=p.get("bandwidth"),
                span=span,
            )
        )

    def _flow(self, t: Tree) -> None:
        _, ident, data, source, target, block = t.children
        span = self._span(t)
        p = self._properties("flow", block, span)
        self.elements["flow"].append(
            Flow(
                id=self._id(ident),
                data=self._word(data, DATA_CLASSES, "data class"),
                source=self._ref(source),
                target=self._ref(target),
                signed_by=p.get("signed"),
                non_repudiation=p.get("non_repudiation", False),
                logged=p.get("logged", False),
                latency_s=p.get("latency"),
                priority=p.get("priority", "normal"),
                span=span,
            )
        )

    def _delegation(self, t: Tree) -> None:
        _, ident, block = t.children
        span = self._span(t)
        p = self._properties("delegation", block, span)
        self.elements["delegation"].append(
            Delegation(
                id=self._id(ident),
                source=p.get("from"),
                target=p.get("to"),
                over=p.get("over", ()),
                rights=p.get("rights", ()),
                consent=p.get("consent"),
                logged=p.get("logged", False),
                non_repudiation=p.get("non_repudiation", False),
                expires=p.get("expires"),
                span=span,
            )
        )

    def _waiver(self, t: Tree) -> None:
        _, rule, on, block = t.children
        span = self._span(t)
        p = self._properties("waiver", block, span)
        self.elements["waiver"].append(
            Waiver(str(rule), self._tok_span(rule), self._ref(on), p.get("reason"), p.get("approved_by"), p.get("expires"), span)
        )


__all__ = ["Builder", "PROPERTIES", "STATEMENTS", "Control"]
