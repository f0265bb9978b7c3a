"""Model → OPA input: the compiled document every policy reads (docs/input-contract.md).
The compiler does the joins here, so the engine never has to."""
from __future__ import annotations

from typing import Any

from . import graph
from .indexes import build_index
from .model import Model, Ref
from .validate import Index
from .vocab import DATA_CLASSES

SCHEMA_VERSION = "1.0"


class _Resolver:
    def __init__(self, ids: Index) -> None:
        self.ids = ids
        self.positions = ids.positions.get
        self.elements = ids.elements.get

    def idx(self, ref: Ref | None) -> int | None:
        return self.positions(ref.id) if ref else None

    def element(self, ref: Ref | None) -> Any:
        return self.elements(ref.id) if ref else None

    def kind(self, ref: Ref | None) -> str | None:
        el = self.element(ref)
        return el.kind if el is not None else None


def _rid(ref: Ref | None) -> str | None:
    return ref.id if ref else None


def emit(model: Model, ids: Index) -> dict[str, Any]:
    """The compiled input document for a model that passed `check_model`."""
    r = _Resolver(ids)
    dep = model.deployment
    assert dep is not None
    utility = _rid(dep.utility)
    devices = _devices(model, r, utility)
    links = _links(model, r)
    adj = graph.adjacency(len(model.devices), [(l["from_idx"], l["to_idx"]) for l in links])
    head_ends = [i for i, d in enumerate(model.devices) if d.kind == "head_end"]
    facts = graph.head_end_facts(adj, head_ends)
    for i, d in enumerate(devices):
        d["link_count"] = len(adj[i])
        d["handles"] = sorted({c for _, li in adj[i] for c in links[li]["carries"]})
        d["reaches_head_end"] = facts.reaches[i]
        d["head_end_hops"] = facts.hops[i]
        d["head_end_cut"] = facts.cut[i]
    flows = _flows(model, r, links, adj)
    return {
        "schema_version": SCHEMA_VERSION,
        "deployment": {
            "name": dep.name,
            "utility": utility,
            "utility_idx": r.idx(dep.utility),
            "version": dep.version,
            "use_cases": list(dep.use_cases),
            "standards": list(dep.standards),
            "source": {"file": model.file, "sha256": model.sha256},
            "span": dep.span.as_dict(),
        },
        "parties": _parties(model, utility),
        "agreements": _agreements(model, r),
        "domains": _domains(model, r),
        "devices": devices,
        "links": links,
        "flows": flows,
        "delegations": _delegations(model, r),
        "waivers": _waivers(model, ids),
        "index": build_index(devices, links, flows),
    }


def _parties(model: Model, utility: str | None) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "name": p.name,
            "kind": p.kind,
            "customer_class": p.customer_class,
            "is_utility": p.id == utility,
            "span": p.span.as_dict(),
        }
        for p in model.parties
    ]


def _agreements(model: Model, r: _Resolver) -> list[dict[str, Any]]:
    out = []
    for a in model.agreements:
        covered = [r.ids.get(c.id) for c in a.covers]
        out.append(
            {
                "id": a.id,
                "kind": a.kind,
                "between": [p.id for p in a.between],
                "between_idx": [r.idx(p) for p in a.between],
                "between_kinds": [r.kind(p) for p in a.between],
                "covers": [c.id for c in a.covers],
                "covers_devices": [c.index for c in covered if c and c.collection == "devices"],
                "covers_links": [c.index for c in covered if c and c.collection == "links"],
                "data": list(a.data),
                "reference": a.reference,
                "expires": a.expires,
                "span": a.span.as_dict(),
            }
        )
    return out


def _domains(model: Model, r: _Resolver) -> list[dict[str, Any]]:
    counts = [0] * len(model.domains)
    customers: list[list[str]] = [[] for _ in model.domains]
    for d in model.devices:
        i = r.idx(d.domain)
        if i is None:
            continue
        counts[i] += 1
        if d.owner and r.kind(d.owner) == "customer" and d.owner.id not in customers[i]:
            customers[i].append(d.owner.id)
    return [
        {
            "id": d.id,
            "kind": d.kind,
            "customer": _rid(d.customer),
            "customer_idx": r.idx(d.customer),
            "device_count": counts[i],
            "owner_customers": customers[i],
            "span": d.span.as_dict(),
        }
        for i, d in enumerate(model.domains)
    ]


def _devices(model: Model, r: _Resolver, utility: str | None) -> list[dict[str, Any]]:
    out = []
    # per agreement, once: thousands of devices are controlled under one service contract that
    # covers thousands of them
    covered = {a.id: frozenset(x.id for x in a.covers) for a in model.agreements}
    for d in model.devices:
        c = d.control
        by = c.by if c else None
        agreement = r.element(c.agreement) if c else None
        covers = bool(agreement) and d.id in covered.get(agreement.id, ())
        parties_of_agreement = {p.id for p in agreement.between} if agreement else set()
        out.append(
            {
                "id": d.id,
                "kind": d.kind,
                "count": d.count,
                "domain": d.domain.id,
                "domain_idx": r.idx(d.domain),
                "domain_kind": r.kind(d.domain),
                "owner": _rid(d.owner),
                "owner_idx": r.idx(d.owner),
                "owner_kind": r.kind(d.owner),
                "owner_is_utility": d.owner is not None and d.owner.id == utility,
                "control_by": _rid(by),
                "control_by_idx": r.idx(by),
                "control_by_kind": r.kind(by),
                "control_by_is_utility": by is not None and by.id == utility,
                "control_basis": c.basis if c else "none",
                "control_for": _rid(c.party) if c else None,
                "control_for_idx": r.idx(c.party) if c else None,
                "control_for_kind": r.kind(c.party) if c else None,
                "control_on_admission": bool(c and c.on_admission),
                "control_agreement": _rid(c.agreement) if c else None,
                "control_agreement_idx": r.idx(c.agreement) if c else None,
                "control_agreement_kind": agreement.kind if agreement else None,
                "control_agreement_covers": covers,
                "control_agreement_with_utility": bool(
                    agreement and by is not None and by.id in parties_of_agreement and utility in parties_of_agreement
                ),
                "firmware": d.firmware,
                "storage": d.storage,
                "tamper_detection": d.tamper_detection,
                "remote_disconnect": d.remote_disconnect,
                "logging": d.logging,
                "redundancy": d.redundancy,
                "role": d.role,
                "processing": d.processing,
                "span": d.span.as_dict(),
            }
        )
    return out


def _links(model: Model, r: _Resolver) -> list[dict[str, Any]]:
    out = []
    for l in model.links:
        a, b = r.element(l.source), r.element(l.target)
        out.append(
            {
                "id": l.id,
                "from": l.source.id,
                "from_idx": r.idx(l.source),
                "to": l.target.id,
                "to_idx": r.idx(l.target),
                "bidirectional": l.bidirectional,
                "from_kind": a.kind,
                "to_kind": b.kind,
                "from_domain_idx": r.idx(a.domain),
                "to_domain_idx": r.idx(b.domain),
                "from_domain_kind": r.kind(a.domain),
                "to_domain_kind": r.kind(b.domain),
                "from_owner_kind": r.kind(a.owner),
                "to_owner_kind": r.kind(b.owner),
                "from_role": a.role,
                "to_role": b.role,
                "same_domain": a.domain.id == b.domain.id,
                "medium": l.medium,
                "protocol": l.protocol,
                "encryption": l.encryption,
                "authentication": l.authentication,
                "integrity": l.integrity,
                "carries": list(DATA_CLASSES) if l.carries_all else list(l.carries),
                "carries_all": l.carries_all,
                "latency_s": l.latency_s,
                "bandwidth_bps": l.bandwidth_bps,
                "span": l.span.as_dict(),
            }
        )
    return out


def _flows(model: Model, r: _Resolver, links: list[dict[str, Any]], adj: list[list[tuple[int, int]]]) -> list[dict[str, Any]]:
    carries = [set(l["carries"]) for l in links]
    ends = [(r.idx(f.source), r.idx(f.target)) for f in model.flows]
    paths = graph.flow_paths(model, adj, carries, ends)  # type: ignore[arg-type]
    out = []
    for f, path, (src, dst) in zip(model.flows, paths, ends):
        latencies = [links[i]["latency_s"] for i in path]
        out.append(
            {
                "id": f.id,
                "data": f.data,
                "from": f.source.id,
                "from_idx": src,
                "from_kind": r.kind(f.source),
                "to": f.target.id,
                "to_idx": dst,
                "to_kind": r.kind(f.target),
                "signed_by": _rid(f.signed_by),
                "signed_by_idx": r.idx(f.signed_by),
                "signed_by_kind": r.kind(f.signed_by),
                "non_repudiation": f.non_repudiation,
                "logged": f.logged,
                "latency_s": f.latency_s,
                "priority": f.priority,
                "path": path,
                "path_found": bool(path) or src == dst,
                "path_latency_s": sum(x for x in latencies if x is not None),
                "path_latency_complete": all(x is not None for x in latencies),
                "span": f.span.as_dict(),
            }
        )
    return out


def _delegations(model: Model, r: _Resolver) -> list[dict[str, Any]]:
    out = []
    for g in model.delegations:
        consent = r.element(g.consent)
        covered = {c.id for c in consent.covers} if consent else set()
        between = {p.id for p in consent.between} if consent else set()
        out.append(
            {
                "id": g.id,
                "from": _rid(g.source),
                "from_idx": r.idx(g.source),
                "from_kind": r.kind(g.source),
                "to": _rid(g.target),
                "to_idx": r.idx(g.target),
                "to_kind": r.kind(g.target),
                "over": [d.id for d in g.over],
                "over_idx": [r.idx(d) for d in g.over],
                "rights": list(g.rights),
                "consent": _rid(g.consent),
                "consent_idx": r.idx(g.consent),
                "consent_kind": consent.kind if consent else None,
                "consent_covers": bool(consent) and all(d.id in covered for d in g.over),
                "consent_between_ok": bool(consent) and {_rid(g.source), _rid(g.target)} <= between,
                "logged": g.logged,
                "non_repudiation": g.non_repudiation,
                "expires": g.expires,
                "span": g.span.as_dict(),
            }
        )
    return out


def _waivers(model: Model, ids: Index) -> list[dict[str, Any]]:
    out = []
    for w in model.waivers:
        loc = ids.get(w.on.id)
        out.append(
            {
                "rule": w.rule,
                "on": w.on.id,
                "on_collection": loc.collection if loc else None,
                "on_idx": loc.index if loc else None,
                "reason": w.reason,
                "approved_by": w.approved_by,
                "expires": w.expires,
                "span": w.span.as_dict(),
            }
        )
    return out
