"""OPA bundles: the policies and the standards data as one `.tar.gz` an OPA server loads as is.

Layout (`opa run --server --bundle FILE`, or served to a fleet by a bundle server):

    .manifest                          {"revision": <content digest>, "roots": ["amisec"], "rego_version": 1}
    data.json                          {"amisec": {"standards": {...}, "mapping": {...}}}
    amisec/lib/lib.rego                each module under its package path
    amisec/rules/<family>/<file>.rego

The archive is deterministic — sorted entries, fixed mtime, owner and mode, gzip mtime 0 — so
the same policies and standards give the same bytes, and the revision names the content: an
OPA server reports it, and `--engine opa --opa-preloaded` checks it against its own.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from typing import Any, Mapping, Sequence

from . import PolicyModule
from .errors import PolicyError

ROOT = "amisec"
MANIFEST = ".manifest"
DATA_FILE = "data.json"
_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)", re.MULTILINE)
_FILE_MODE = 0o644
_MTIME = 0


def module_package(module: PolicyModule) -> str:
    """The package a Rego module declares; a module without one is a policy error."""
    match = _PACKAGE.search(module.source)
    if match is None:
        raise PolicyError(module.path, "a Rego module needs a `package` line")
    return match.group(1)


def module_entry(module: PolicyModule) -> str:
    """Where a module goes in the bundle: its package path, then its file name."""
    package = module_package(module)
    if package != ROOT and not package.startswith(ROOT + "."):
        raise PolicyError(module.path, f"package {package} is outside the bundle root '{ROOT}'")
    file_name = module.path.replace("\\", "/").rsplit("/", 1)[-1]
    return "/".join(package.split(".")) + "/" + file_name


def standards_data() -> dict[str, Any]:
    """`data.amisec`: every standard's control catalog and the rule → controls mapping."""
    from amisec.standards import load_catalogs, load_mapping

    catalogs = {
        key: {
            "name": cat.name,
            "title": cat.title,
            "version": cat.version,
            "note": cat.note,
            "controls": [
                {"id": c.id, "title": c.title, "verified": c.verified, "source": c.source,
                 "principles": list(c.principles), "note": c.note}
                for c in cat.controls
            ],
        }
        for key, cat in sorted(load_catalogs().items())
    }
    return {ROOT: {"standards": catalogs, "mapping": load_mapping()}}


def bundle_files(modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> dict[str, bytes]:
    """Every file of the bundle except the manifest, by entry name."""
    entries: dict[str, bytes] = {}
    for module in modules:
        name = module_entry(module)
        if name in entries:
            raise PolicyError(module.path, f"another module of the same package is also named {name}")
        entries[name] = module.source.encode("utf-8")
    entries[DATA_FILE] = _canonical_json(data)
    return entries


def content_digest(entries: Mapping[str, bytes]) -> str:
    """sha256 (hex) over every entry's name, length and bytes, in sorted name order."""
    digest = hashlib.sha256()
    for name in sorted(entries):
        digest.update(f"{name}\0{len(entries[name])}\0".encode("utf-8"))
        digest.update(entries[name])
    return digest.hexdigest()


def bundle_revision(modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> str:
    """The revision `write_bundle` would give these modules and data."""
    return content_digest(bundle_files(modules, data))


def build_bundle(modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> tuple[bytes, str]:
    """The bundle as deterministic `.tar.gz` bytes, and its revision."""
    entries = bundle_files(modules, data)
    revision = content_digest(entries)
    manifest = {"revision": revision, "roots": [ROOT], "rego_version": 1}
    entries[MANIFEST] = _canonical_json(manifest)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            _add(tar, name, entries[name])
    compressed = io.BytesIO()
    # gzip's header carries a timestamp and a file name: both fixed so the bytes are reproducible
    with gzip.GzipFile(filename="", mode="wb", fileobj=compressed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return compressed.getvalue(), revision


def write_bundle(path: str, modules: Sequence[PolicyModule], data: Mapping[str, Any]) -> str:
    """Write the bundle to `path`; returns its revision."""
    payload, revision = build_bundle(modules, data)
    with open(path, "wb") as fh:
        fh.write(payload)
    return revision


def _canonical_json(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mtime = _MTIME
    info.mode = _FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(payload))
