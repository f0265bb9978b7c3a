"""Control catalogs of the standards amisec reports against.

Each catalog is a YAML file in this package (`<key>.yaml`), read with importlib.resources so it is
found from a checkout, an installed wheel and a pre-commit hook alike. The ids and titles come
from the standards reference only; `verified: false` marks a control whose id and title have not
been checked against the published standard, and every output shows it as such.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from amisec import safe_yaml
from amisec.cache import memo

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

MAPPING_FILE = "mapping.yaml"
PRINCIPLES = ("availability", "integrity", "confidentiality", "access control", "accountability")



class StandardsError(ValueError):
    """A catalog or the rule → controls mapping is malformed or inconsistent."""


class UnknownStandardError(StandardsError):
    """A standard key that no catalog has (a user's mistake, e.g. on the command line)."""


def label(control_id: str, verified: bool) -> str:
    """A control id as every output shows it: `SG.SC-8 (unverified)` when not verified."""
    return control_id if verified else f"{control_id} (unverified)"


@dataclass(frozen=True)
class Control:
    """One control (requirement, part, …) of a standard, as listed in its catalog."""

    id: str
    title: str
    verified: bool
    source: str
    principles: tuple[str, ...] = ()
    note: str = ""

    def label(self) -> str:
        """The id as every output shows it: `SG.SC-8 (unverified)` when not verified."""
        return label(self.id, self.verified)


@dataclass(frozen=True)
class Catalog:
    """A standard's catalog: header facts and its controls in catalog order."""

    key: str
    name: str
    title: str
    version: str
    note: str
    controls: tuple[Control, ...]
    _by_id: dict[str, Control] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {c.id: c for c in self.controls})

    def get(self, control_id: str) -> Control | None:
        """The control with this id, or None."""
        return self._by_id.get(control_id)

    @property
    def ids(self) -> tuple[str, ...]:
        """Control ids in catalog order."""
        return tuple(c.id for c in self.controls)


def _package_files() -> list[Traversable]:
    """The YAML files of this package, sorted by name."""
    yaml_files = [f for f in files(__package__).iterdir() if f.name.endswith(".yaml")]
    return sorted(yaml_files, key=lambda f: f.name)


def _require(doc: dict, field: str, kind: type, where: str) -> object:
    value = doc.get(field)
    if not isinstance(value, kind):
        raise StandardsError(f"{where}: field '{field}' must be a {kind.__name__}")
    return value


def _parse_control(raw: object, where: str) -> Control:
    if not isinstance(raw, dict):
        raise StandardsError(f"{where}: each control must be a mapping")
    control_id = str(_require(raw, "id", str, where))
    where = f"{where}: control {control_id}"
    principles = tuple(raw.get("principles") or ())
    unknown = [p for p in principles if p not in PRINCIPLES]
    if unknown:
        raise StandardsError(f"{where}: unknown principle(s) {', '.join(map(repr, unknown))}")
    return Control(
        id=control_id,
        title=str(_require(raw, "title", str, where)),
        verified=bool(_require(raw, "verified", bool, where)),
        source=str(_require(raw, "source", str, where)),
        principles=principles,
        note=str(raw.get("note") or ""),
    )


def parse_catalog(text: str, filename: str) -> Catalog:
    """Parse one catalog file; its `key` must match the file name (`<key>.yaml`)."""
    doc = safe_yaml.load(text)
    where = f"standards/{filename}"
    if not isinstance(doc, dict):
        raise StandardsError(f"{where}: a catalog must be a YAML mapping")
    key = str(_require(doc, "key", str, where))
    if f"{key}.yaml" != filename:
        raise StandardsError(f"{where}: key '{key}' does not match the file name")
    raw_controls = _require(doc, "controls", list, where)
    controls = tuple(_parse_control(c, where) for c in raw_controls)
    seen: set[str] = set()
    for control in controls:
        if control.id in seen:
            raise StandardsError(f"{where}: control {control.id} is listed twice")
        seen.add(control.id)
    return Catalog(
        key=key,
        name=str(_require(doc, "name", str, where)),
        title=str(_require(doc, "title", str, where)),
        version=str(_require(doc, "version", str, where)),
        note=str(doc.get("note") or ""),
        controls=controls,
    )


@lru_cache(maxsize=1)
def _catalogs() -> tuple[Catalog, ...]:
    texts = [(f.name, f.read_text(encoding="utf-8")) for f in _package_files() if f.name != MAPPING_FILE]
    code = Path(__file__).read_bytes()
    # parsing the catalogs' YAML is a tenth of a pre-commit run: kept on disk by their text
    return memo("standards", [code, *(part for pair in texts for part in pair)],
                lambda: tuple(parse_catalog(text, name) for name, text in texts))


def load_catalogs() -> dict[str, Catalog]:
    """Every shipped catalog, keyed by its standard key (`nist_800_53`, `iec_62443`, …)."""
    return {c.key: c for c in _catalogs()}


def get_catalog(key: str) -> Catalog:
    """One catalog by key; an unknown key raises UnknownStandardError naming the known ones."""
    catalogs = load_catalogs()
    if key not in catalogs:
        known = ", ".join(sorted(catalogs))
        raise UnknownStandardError(f"unknown standard '{key}' (known: {known})")
    return catalogs[key]


def digest() -> str:
    """sha256 (hex) of the catalogs and the mapping, for reports.

    Each YAML file of the package contributes its name and its bytes, in sorted name order, so
    any edit, addition, removal or rename changes the digest.
    """
    h = hashlib.sha256()
    for f in _package_files():
        data = f.read_bytes()
        h.update(f.name.encode("utf-8") + b"\0" + str(len(data)).encode("ascii") + b"\0")
        h.update(data)
    return h.hexdigest()
