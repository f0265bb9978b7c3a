"""The deployment model: what a .ami file says, with its source spans.

Elements, references and spans are named tuples: a large plan has about eight of them per element,
and a tuple is made three times as fast as a frozen dataclass, unpickled (from a piece parsed in
another process) twice as fast, and read with one memory access instead of two."""
from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .diagnostics import Span


class Ref(NamedTuple):
    """A reference to another element by id, where it was written."""

    id: str
    span: Span


class Deployment(NamedTuple):
    name: str
    utility: Ref | None
    version: str | None
    use_cases: tuple[str, ...]
    standards: tuple[str, ...]
    span: Span


class Party(NamedTuple):
    id: str
    name: str | None
    kind: str
    customer_class: str | None
    span: Span


class Agreement(NamedTuple):
    id: str
    kind: str
    between: tuple[Ref, ...]
    covers: tuple[Ref, ...]
    data: tuple[str, ...]
    reference: str | None
    expires: str | None
    span: Span


class Domain(NamedTuple):
    id: str
    kind: str
    customer: Ref | None
    span: Span


class Control(NamedTuple):
    """Who controls a device and on what basis (`owner`, `proxy_for`, `delegated_by`, `under`)."""

    by: Ref
    basis: str
    party: Ref | None = None
    on_admission: bool = False
    agreement: Ref | None = None


class Device(NamedTuple):
    id: str
    kind: str
    count: int
    domain: Ref
    owner: Ref | None
    control: Control | None
    firmware: str
    storage: str
    tamper_detection: bool
    remote_disconnect: bool
    logging: bool
    redundancy: int
    role: str | None
    processing: str
    span: Span


class Link(NamedTuple):
    id: str
    source: Ref
    target: Ref
    bidirectional: bool
    medium: str | None
    protocol: str | None
    encryption: str
    authentication: str
    integrity: str
    carries: tuple[str, ...]
    carries_all: bool
    latency_s: float | None
    bandwidth_bps: int | None
    span: Span


class Flow(NamedTuple):
    id: str
    data: str
    source: Ref
    target: Ref
    signed_by: Ref | None
    non_repudiation: bool
    logged: bool
    latency_s: float | None
    priority: str
    span: Span


class Delegation(NamedTuple):
    id: str
    source: Ref | None
    target: Ref | None
    over: tuple[Ref, ...]
    rights: tuple[str, ...]
    consent: Ref | None
    logged: bool
    non_repudiation: bool
    expires: str | None
    span: Span


class Waiver(NamedTuple):
    rule: str
    rule_span: Span
    on: Ref
    reason: str | None
    approved_by: str | None
    expires: str | None
    span: Span


@dataclass(frozen=True)
class Model:
    """A whole deployment file: every element in source order."""

    file: str
    sha256: str
    deployment: Deployment | None
    parties: tuple[Party, ...]
    agreements: tuple[Agreement, ...]
    domains: tuple[Domain, ...]
    devices: tuple[Device, ...]
    links: tuple[Link, ...]
    flows: tuple[Flow, ...]
    delegations: tuple[Delegation, ...]
    waivers: tuple[Waiver, ...]

