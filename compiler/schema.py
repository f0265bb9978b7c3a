"""The cerberus schema of the compiled input: the contract between compiler and policies.
Every field is required (explicit `none`, `false`, `null`), so a policy never reads a missing key."""
from __future__ import annotations

from typing import Any

from cerberus import Validator
from cerberus.schema import UnvalidatedSchema

from . import schema_columns, vocab


class SchemaError(Exception):
    """The compiler produced a document that breaks the contract: a bug, not a user error."""


def _req(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "required": True, **extra}


def _opt(type_: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "required": True, "nullable": True, **extra}


def _strs(allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string"}
    if allowed:
        item["allowed"] = list(allowed)
    return {"type": "list", "required": True, "schema": item}


def _ints() -> dict[str, Any]:
    return {"type": "list", "required": True, "schema": {"type": "integer", "min": 0}}


def _positions(words: tuple[str, ...]) -> dict[str, Any]:
    """An index map: every word a key, each holding element positions."""
    return {"type": "dict", "required": True, "schema": {word: _ints() for word in words}}


SPAN = {
    "type": "dict",
    "required": True,
    "schema": {
        "file": _req("string"),
        "line": _req("integer", min=1),
        "column": _req("integer", min=1),
        "end_line": _req("integer", min=1),
        "end_column": _req("integer", min=1),
    },
}
IDX = _opt("integer", min=0)
ID = _req("string", regex=r"[a-z_][a-z0-9_]*")


def _ref(prefix: str, kinds: tuple[str, ...] | None = None, nullable: bool = True) -> dict[str, Any]:
    out = {prefix: _opt("string") if nullable else ID, f"{prefix}_idx": IDX if nullable else _req("integer", min=0)}
    if kinds is not None:
        out[f"{prefix}_kind"] = _opt("string", allowed=list(kinds))
    return out


def _collection(fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "list", "required": True, "schema": {"type": "dict", "schema": {"span": SPAN, **fields}}}


DEVICE = {
    "id": ID,
    "kind": _req("string", allowed=list(vocab.DEVICE_KINDS)),
    "count": _req("integer", min=1),
    **_ref("domain", vocab.DOMAIN_KINDS, nullable=False),
    **_ref("owner", vocab.PARTY_KINDS),
    "owner_is_utility": _req("boolean"),
    **_ref("control_by", vocab.PARTY_KINDS),
    "control_by_is_utility": _req("boolean"),
    "control_basis": _req("string", allowed=["none", "owner", "proxy_for", "delegated_by", "under"]),
    **_ref("control_for", vocab.PARTY_KINDS),
    "control_on_admission": _req("boolean"),
    **_ref("control_agreement", vocab.AGREEMENT_KINDS),
    "control_agreement_covers": _req("boolean"),
    "control_agreement_with_utility": _req("boolean"),
    "firmware": _req("string", allowed=list(vocab.FIRMWARE)),
    "storage": _req("string", allowed=list(vocab.STORAGE)),
    "tamper_detection": _req("boolean"),
    "remote_disconnect": _req("boolean"),
    "logging": _req("boolean"),
    "redundancy": _req("integer", min=0),
    "role": _opt("string", allowed=list(vocab.ROLES)),
    "processing": _req("string", allowed=list(vocab.PROCESSING)),
    "link_count": _req("integer", min=0),
    "handles": _strs(vocab.DATA_CLASSES),
    "reaches_head_end": _req("boolean"),
    "head_end_hops": _opt("integer", min=0),
    "head_end_cut": _ints(),
}

LINK = {
    "id": ID,
    **_ref("from", nullable=False),
    **_ref("to", nullable=False),
    "bidirectional": _req("boolean"),
    "from_kind": _req("string", allowed=list(vocab.DEVICE_KINDS)),
    "to_kind": _req("string", allowed=list(vocab.DEVICE_KINDS)),
    "from_domain_idx": _req("integer", min=0),
    "to_domain_idx": _req("integer", min=0),
    "from_domain_kind": _req("string", allowed=list(vocab.DOMAIN_KINDS)),
    "to_domain_kind": _req("string", allowed=list(vocab.DOMAIN_KINDS)),
    "from_owner_kind": _opt("string", allowed=list(vocab.PARTY_KINDS)),
    "to_owner_kind": _opt("string", allowed=list(vocab.PARTY_KINDS)),
    "from_role": _opt("string", allowed=list(vocab.ROLES)),
    "to_role": _opt("string", allowed=list(vocab.ROLES)),
    "same_domain": _req("boolean"),
    "medium": _opt("string", allowed=list(vocab.MEDIA)),
    "protocol": _opt("string", allowed=list(vocab.PROTOCOLS)),
    "encryption": _req("string", allowed=list(vocab.ENCRYPTION)),
    "authentication": _req("string", allowed=list(vocab.AUTHENTICATION)),
    "integrity": _req("string", allowed=list(vocab.INTEGRITY)),
    "carries": _strs(vocab.DATA_CLASSES),
    "carries_all": _req("boolean"),
    "latency_s": _opt("number", min=0),
    "bandwidth_bps": _opt("integer", min=0),
}

FLOW = {
    "id": ID,
    "data": _req("string", allowed=list(vocab.DATA_CLASSES)),
    **_ref("from", nullable=False),
    "from_kind": _req("string", allowed=list(vocab.DEVICE_KINDS)),
    **_ref("to", nullable=False),
    "to_kind": _req("string", allowed=list(vocab.DEVICE_KINDS)),
    **_ref("signed_by", vocab.PARTY_KINDS),
    "non_repudiation": _req("boolean"),
    "logged": _req("boolean"),
    "latency_s": _opt("number", min=0),
    "priority": _req("string", allowed=list(vocab.PRIORITIES)),
    "path": _ints(),
    "path_found": _req("boolean"),
    "path_latency_s": _req("number", min=0),
    "path_latency_complete": _req("boolean"),
}

DELEGATION = {
    "id": ID,
    **_ref("from", vocab.PARTY_KINDS, nullable=False),
    **_ref("to", vocab.PARTY_KINDS, nullable=False),
    "over": _strs(),
    "over_idx": _ints(),
    "rights": _strs(vocab.RIGHTS),
    **_ref("consent", vocab.AGREEMENT_KINDS),
    "consent_covers": _req("boolean"),
    "consent_between_ok": _req("boolean"),
    "logged": _req("boolean"),
    "non_repudiation": _req("boolean"),
    "expires": _opt("string"),
}

SCHEMA: dict[str, Any] = {
    "schema_version": _req("string", allowed=["1.0"]),
    "deployment": {
        "type": "dict",
        "required": True,
        "schema": {
            "name": _req("string"),
            "utility": _opt("string"),
            "utility_idx": IDX,
            "version": _opt("string"),
            "use_cases": _strs(vocab.USE_CASES),
            "standards": _strs(vocab.STANDARDS),
            "source": {"type": "dict", "required": True, "schema": {"file": _req("string"), "sha256": _req("string", regex="[0-9a-f]{64}")}},
            "span": SPAN,
        },
    },
    "parties": _collection(
        {
            "id": ID,
            "name": _opt("string"),
            "kind": _req("string", allowed=list(vocab.PARTY_KINDS)),
            "customer_class": _opt("string", allowed=list(vocab.CUSTOMER_CLASSES)),
            "is_utility": _req("boolean"),
        }
    ),
    "agreements": _collection(
        {
            "id": ID,
            "kind": _req("string", allowed=list(vocab.AGREEMENT_KINDS)),
            "between": _strs(),
            "between_idx": _ints(),
            "between_kinds": _strs(vocab.PARTY_KINDS),
            "covers": _strs(),
            "covers_devices": _ints(),
            "covers_links": _ints(),
            "data": _strs(vocab.DATA_CLASSES),
            "reference": _opt("string"),
            "expires": _opt("string"),
        }
    ),
    "domains": _collection(
        {
            "id": ID,
            "kind": _req("string", allowed=list(vocab.DOMAIN_KINDS)),
            **_ref("customer"),
            "device_count": _req("integer", min=0),
            "owner_customers": _strs(),
        }
    ),
    "devices": _collection(DEVICE),
    "links": _collection(LINK),
    "flows": _collection(FLOW),
    "delegations": _collection(DELEGATION),
    "waivers": _collection(
        {
            "rule": _req("string"),
            "on": ID,
            "on_collection": _req("string"),
            "on_idx": _req("integer", min=0),
            "reason": _req("string"),
            "approved_by": _req("string"),
            "expires": _req("string"),
        }
    ),
    "index": {
        "type": "dict",
        "required": True,
        "schema": {
            "devices_by_kind": _positions(vocab.DEVICE_KINDS),
            "devices_by_domain_kind": _positions(vocab.DOMAIN_KINDS),
            "devices_by_data": _positions(vocab.DATA_CLASSES),
            "links_by_data": _positions(vocab.DATA_CLASSES),
            "flows_by_data": _positions(vocab.DATA_CLASSES),
            "devices_by_firmware": _positions(vocab.FIRMWARE),
            "devices_by_owner_kind": _positions((*vocab.PARTY_KINDS, "none")),
            "devices_by_control_by_kind": _positions((*vocab.PARTY_KINDS, "none")),
            "devices_by_tamper_detection": _positions(vocab.SWITCH),
            "links_by_medium": _positions((*vocab.MEDIA, "none")),
            "links_by_encryption": _positions(vocab.ENCRYPTION),
            "links_by_authentication": _positions(vocab.AUTHENTICATION),
            "links_by_integrity": _positions(vocab.INTEGRITY),
            "flows_by_signed_by_kind": _positions((*vocab.PARTY_KINDS, "none")),
            "flows_by_non_repudiation": _positions(vocab.SWITCH),
            "flows_by_logged": _positions(vocab.SWITCH),
        },
    },
}

_validator: Validator | None = None
_by_columns: bool | None = None


def checked_validator() -> Validator:
    """A validator whose schema cerberus itself has checked (used by the tests)."""
    return Validator(SCHEMA, allow_unknown=False)


def validate_input(doc: dict[str, Any]) -> None:
    """Raise `SchemaError` when the compiled input breaks its contract.

    A valid document is confirmed column by column (`schema_columns`: the same verdict, ~10× less
    work at utility scale); only an invalid one is walked element by element, for cerberus's
    account of what is wrong."""
    global _validator, _by_columns
    if _by_columns is None:
        _by_columns = schema_columns.supported(SCHEMA)
    if _by_columns and schema_columns.valid(SCHEMA, doc):
        return
    if _validator is None:
        # Checking the schema itself costs cerberus ~0.5 s per process, a price a pre-commit hook
        # would pay on every commit; the schema is fixed and `checked_validator` is tested.
        _validator = Validator(UnvalidatedSchema(SCHEMA), allow_unknown=False)
    if not _validator.validate(doc, normalize=False):  # nothing to normalise; a third of the cost
        raise SchemaError(f"compiled input does not match its schema: {_validator.errors}")
