"""The policy catalog: every rule file, every rule's METADATA, validated, and the policy digest.

Built-in policies are package data (`policies/lib.rego`, `policies/rules/*.rego`), read with
importlib.resources so a wheel or a pre-commit hook finds them; user directories of custom
policies are added on top. A broken policy file is a policy error (exit code 3) naming file:line.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Iterable, Sequence

from amisec.cache import memo
from amisec.compiler.vocab import USE_CASES
from amisec.engine.errors import PolicyError

from .cases import RuleCase, parse_cases
from .conflicts import check_conflicts
from .metadata import MetadataBlock, read_blocks

PRINCIPLES = ("availability", "integrity", "confidentiality", "access control", "accountability")
SEVERITIES = ("critical", "high", "medium", "low", "info")  # most severe first
SUBJECTS = ("devices", "links", "flows", "delegations", "agreements", "parties", "domains", "deployment")
RULES_PACKAGE = "amisec.rules."
BUILTIN_ID = re.compile(r"^AMI-[A-Z]+-\d{3}$")
CUSTOM_ID = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+$")
_SECTION = re.compile(r"^\d+(?:\.\d+)*$")
_CUSTOM_FIELDS = ("id", "principle", "severity", "section", "objective", "use_cases", "subject", "evidence", "remediation")
_TOP_FIELDS = {"title", "description", "custom", "scope", "related_resources", "authors", "organizations", "schemas"}


@dataclass(frozen=True)
class RuleMeta:
    """A rule as its METADATA block describes it, and where it is."""

    id: str
    title: str
    description: str
    principle: str
    severity: str
    section: str
    objective: str
    use_cases: tuple[str, ...]
    subject: str
    evidence: str
    remediation: str
    package: str
    name: str
    family: str
    path: str
    line: int
    builtin: bool = True


@dataclass(frozen=True)
class PolicyFile:
    """A Rego module: its display path (also its module name in the engine) and its text."""

    path: str
    source: str
    builtin: bool


@dataclass(frozen=True)
class CaseFile:
    """A `*_cases.yaml` file beside the rule files."""

    path: str
    text: str


def _text(block: MetadataBlock, fields: dict[str, Any], key: str, where: str) -> str:
    """A required text field, its whitespace folded (YAML `>-` blocks stay one paragraph)."""
    value = fields.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(where, f"METADATA of rule '{block.name}' needs a non-empty text '{key}'")
    return " ".join(value.split())


def _choice(value: str, allowed: Sequence[str], key: str, where: str) -> str:
    if value not in allowed:
        raise PolicyError(where, f"METADATA '{key}' is '{value}'; allowed: {', '.join(allowed)}")
    return value


def _use_cases(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(where, "METADATA 'use_cases' must be a list of use cases ([] = always)")
    for use_case in value:
        _choice(use_case, USE_CASES, "use_cases", where)
    return tuple(value)


def _check_keys(block: MetadataBlock, custom: dict[str, Any], where: str) -> None:
    unknown = sorted(set(block.fields) - _TOP_FIELDS) + sorted(f"custom.{k}" for k in set(custom) - set(_CUSTOM_FIELDS))
    if unknown:
        raise PolicyError(where, f"unknown METADATA field(s) {', '.join(unknown)}")
    if block.fields.get("scope", "rule") != "rule":
        raise PolicyError(where, "METADATA must describe a rule (scope: rule)")


def rule_from_block(block: MetadataBlock, builtin: bool) -> RuleMeta:
    """Validate one METADATA block and turn it into a RuleMeta."""
    where = f"{block.path}:{block.block_line}"
    custom = block.fields.get("custom")
    if not isinstance(custom, dict):
        raise PolicyError(where, f"METADATA of rule '{block.name}' needs a 'custom' mapping")
    _check_keys(block, custom, where)
    texts = {key: _text(block, custom, key, where) for key in _CUSTOM_FIELDS if key != "use_cases"}
    pattern = BUILTIN_ID if builtin else CUSTOM_ID
    if not pattern.match(texts["id"]):
        shape = "AMI-<FAMILY>-<NNN>" if builtin else "an upper-case id like ACME-NET-001 (AMI- is reserved)"
        raise PolicyError(where, f"rule id '{texts['id']}' must be {shape}")
    if not _SECTION.match(texts["section"]):
        raise PolicyError(where, f"METADATA 'section' is '{texts['section']}'; expected a seed section like \"3.2.1\"")
    if not block.package.startswith(RULES_PACKAGE):
        raise PolicyError(where, f"package {block.package} is not under {RULES_PACKAGE.rstrip('.')}")
    return RuleMeta(
        id=texts["id"],
        title=_text(block, block.fields, "title", where),
        description=_text(block, block.fields, "description", where),
        principle=_choice(texts["principle"], PRINCIPLES, "principle", where),
        severity=_choice(texts["severity"], SEVERITIES, "severity", where),
        section=texts["section"],
        objective=texts["objective"],
        use_cases=_use_cases(custom.get("use_cases"), where),
        subject=_choice(texts["subject"], SUBJECTS, "subject", where),
        evidence=texts["evidence"],
        remediation=texts["remediation"],
        package=block.package,
        name=block.name,
        family=block.package[len(RULES_PACKAGE):],
        path=block.path,
        line=block.line,
        builtin=builtin,
    )


def _check_unique(rules: Sequence[RuleMeta]) -> None:
    """Rule ids, and rule names within a package, are unique; a clash names both places."""
    by_id: dict[str, RuleMeta] = {}
    by_name: dict[str, RuleMeta] = {}
    for rule in rules:
        qualified = f"{rule.package}.{rule.name}"
        for seen, key, what in ((by_id, rule.id, f"rule id {rule.id}"), (by_name, qualified, f"rule {qualified}")):
            if key in seen:
                raise PolicyError(f"{rule.path}:{rule.line}", f"{what} is already defined at {seen[key].path}:{seen[key].line}")
            seen[key] = rule


def _check_reserved(rules: Sequence[RuleMeta]) -> None:
    """`AMI-` ids belong to the built-in rules (checked after uniqueness, so a clash names both places)."""
    for rule in rules:
        if not rule.builtin and rule.id.startswith("AMI-"):
            raise PolicyError(f"{rule.path}:{rule.line}", f"rule id '{rule.id}' must be an upper-case id like "
                              "ACME-NET-001 with your organisation's prefix (AMI- is reserved for built-in rules)")


def policy_digest(policy_files: Iterable[PolicyFile] | None = None) -> str:
    """sha256 (hex) over the Rego files: each one's path and bytes, in sorted path order."""
    chosen = builtin_files()[0] if policy_files is None else tuple(policy_files)
    digest = hashlib.sha256()
    for policy in sorted(chosen, key=lambda p: p.path):
        data = policy.source.encode("utf-8")
        digest.update(f"{policy.path}\0{len(data)}\0".encode("utf-8") + data)
    return digest.hexdigest()


@dataclass(frozen=True)
class Catalog:
    """Every policy module, every rule (in file order) and the rules' test case files."""

    files: tuple[PolicyFile, ...]
    rules: tuple[RuleMeta, ...]
    case_files: tuple[CaseFile, ...]

    def get(self, rule_id: str) -> RuleMeta | None:
        """The rule with this id (case-insensitive), or None."""
        wanted = rule_id.upper()
        return next((r for r in self.rules if r.id == wanted), None)

    @cached_property
    def digest(self) -> str:
        """The policy digest of these files."""
        return policy_digest(self.files)

    @cached_property
    def cases(self) -> tuple[RuleCase, ...]:
        """Every test case of every case file, each checked to name a known rule."""
        known = {r.id for r in self.rules}
        return tuple(c for f in self.case_files for c in parse_cases(f.text, f.path, known))


@lru_cache(maxsize=1)
def builtin_files() -> tuple[tuple[PolicyFile, ...], tuple[CaseFile, ...]]:
    """The Rego modules and case files shipped in this package."""
    root = files(__package__)
    rules_dir = root / "rules"
    entries = sorted(rules_dir.iterdir(), key=lambda f: f.name) if rules_dir.is_dir() else []
    modules = [PolicyFile("policies/lib.rego", (root / "lib.rego").read_text(encoding="utf-8"), True)]
    modules += [PolicyFile(f"policies/rules/{f.name}", f.read_text(encoding="utf-8"), True) for f in entries if f.name.endswith(".rego")]
    cases = [CaseFile(f"policies/rules/{f.name}", f.read_text(encoding="utf-8")) for f in entries if f.name.endswith("_cases.yaml")]
    return tuple(modules), tuple(cases)


def _directory_files(directory: Path) -> tuple[list[PolicyFile], list[CaseFile]]:
    found = sorted(p for p in directory.rglob("*") if p.is_file())
    modules = [PolicyFile(str(p), p.read_text(encoding="utf-8"), False) for p in found if p.suffix == ".rego"]
    cases = [CaseFile(str(p), p.read_text(encoding="utf-8")) for p in found if p.name.endswith("_cases.yaml")]
    return modules, cases


def load_catalog(extra_dirs: Sequence[str | Path] = ()) -> Catalog:
    """The built-in policies plus those in `extra_dirs`, validated (raises PolicyError)."""
    builtin_modules, builtin_cases = builtin_files()
    modules, case_files = list(builtin_modules), list(builtin_cases)
    for directory in extra_dirs:
        if not Path(directory).is_dir():
            raise PolicyError(str(directory), "policy directory does not exist")
        extra_modules, extra_cases = _directory_files(Path(directory))
        modules += extra_modules
        case_files += extra_cases
    # reading every METADATA block and checking the set for conflicts is ~0.2 s per process
    inputs = [*_checking_code(), *(part for m in modules for part in (m.path, str(m.builtin), m.source))]
    rules = memo("catalog", inputs, lambda: _validated_rules(modules))
    return Catalog(tuple(modules), rules, tuple(case_files))


def _checking_code() -> list[bytes]:
    here = Path(__file__).parent
    return [(here / name).read_bytes() for name in ("catalog.py", "metadata.py", "conflicts.py")]


def _validated_rules(modules: Sequence[PolicyFile]) -> tuple[RuleMeta, ...]:
    check_conflicts(modules)
    rules = [rule_from_block(block, module.builtin) for module in modules for block in read_blocks(module.source, module.path)[1]]
    _check_unique(rules)
    _check_reserved(rules)
    return tuple(rules)
