"""Run a check: compile the deployment files, evaluate the policies, build the report.

The command line and any other caller (a pre-commit hook, a CI step, a test) use `run_check`; it
raises InputError (exit 2), UsageError (exit 2) or EngineError (exit 3) and never prints.
"""
from __future__ import annotations

from dataclasses import replace
import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from amisec import __version__
from amisec.compiler import InputError, compile_source, read
from amisec.gc_pause import gc_paused
from amisec.engine import get_engine
from amisec.policies.catalog import Catalog, RuleMeta, load_catalog
from amisec.results.evaluate import ControlsOf, evaluate_deployment
from amisec.results.model import ControlRef, DeploymentReport, Report
from amisec.results.topology import build_topology
from amisec.standards import digest as standards_digest


class UsageError(ValueError):
    """The command was used wrongly: an unknown rule, a missing file, … (exit code 2)."""


def collect_files(paths: Iterable[str]) -> list[str]:
    """The .ami files named by `paths`: files as given, directories searched recursively."""
    found: list[str] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            found += sorted(str(f) for f in p.rglob("*.ami") if f.is_file())
        elif p.is_file():
            found.append(path)
        else:
            raise UsageError(f"{path}: no such file or directory")
    if not found:
        raise UsageError(f"no .ami files in {', '.join(paths)}")
    return list(dict.fromkeys(found))


def _matches(rule: RuleMeta, word: str) -> bool:
    """A selector names a rule id, a family (package name) or an id's family code (`OWN`)."""
    word = word.strip()
    code = rule.id.split("-")[1] if rule.id.count("-") >= 2 else ""
    return word.upper() in (rule.id, code) or word.lower() == rule.family


def select_rules(rules: Sequence[RuleMeta], include: Sequence[str] = (), exclude: Sequence[str] = ()) -> set[str]:
    """Ids of the rules `--rule` selects (all when empty) minus those `--skip-rule` names."""
    for word in (*include, *exclude):
        if not any(_matches(r, word) for r in rules):
            families = sorted({r.family for r in rules})
            raise UsageError(f"'{word}' names no rule id or family (families: {', '.join(families)}; `amisec rules` lists ids)")
    chosen = {r.id for r in rules if not include or any(_matches(r, w) for w in include)}
    return {i for i in chosen if not any(_matches(r, w) for r in rules if r.id == i for w in exclude)}


def controls_for(standards: Sequence[str]) -> ControlsOf:
    """The controls of each rule in the standards a deployment selects."""
    from amisec.standards.mapping import rule_controls

    def controls(rule: RuleMeta) -> tuple[ControlRef, ...]:
        per_standard = rule_controls(rule.id, list(standards))
        return tuple(ControlRef(key, c.id, c.title, c.verified) for key, found in per_standard.items() for c in found)

    return controls


def timestamp() -> str:
    """UTC now, or SOURCE_DATE_EPOCH when set, as ISO 8601 with a Z."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), tz=timezone.utc) if epoch.isdigit() else datetime.now(tz=timezone.utc)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def compile_all(files: Sequence[str], jobs: int | None = None) -> list[dict[str, Any]]:
    """Compile every file (a large one on up to `jobs` processes); the problems of all files are
    reported together."""
    docs, errors = [], []
    for path in files:
        try:
            docs.append(compile_source(read(path), jobs=jobs))
        except InputError as err:
            errors.append(err)
    if errors:
        sources = {k: v for err in errors for k, v in err.sources.items()}
        raise InputError([d for err in errors for d in err.diagnostics], sources)
    return docs


def run_check(
    paths: Sequence[str],
    *,
    engine: str = "embedded",
    engine_options: Mapping[str, Any] | None = None,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    policy_dirs: Sequence[str] = (),
    today: date | None = None,
    catalog: Catalog | None = None,
    jobs: int | None = None,
) -> Report:
    """Check deployment files (or directories of them) and return the report; a large deployment
    is parsed, and evaluated on the embedded engine, on up to `jobs` processes (default: the CPUs
    available)."""
    catalog = catalog or load_catalog(policy_dirs)
    selected = select_rules(catalog.rules, include, exclude)
    docs = compile_all(collect_files(paths), jobs)
    options = dict(engine_options or {})
    if engine == "embedded" and jobs:
        options["jobs"] = jobs
    try:
        evaluator = get_engine(engine, modules=catalog.files, **options)
    except ValueError as err:
        raise UsageError(str(err)) from None
    deployments = tuple(_judged(doc, evaluator.evaluate(doc), catalog, selected, today) for doc in docs)
    return Report(__version__, evaluator.name, evaluator.version, catalog.digest, timestamp(), deployments,
                  standards_digest=standards_digest())


def _judged(doc: Mapping[str, Any], raw: dict, catalog: Catalog, selected: set[str], today: date | None) -> DeploymentReport:
    # joining a large deployment's results allocates millions of acyclic objects, which the
    # cyclic collector would only rescan (with it running this stage took 0.11 s at 10k elements
    # and 2.2 s at 100k)
    with gc_paused():
        report = evaluate_deployment(catalog.rules, doc, raw, select=selected, today=today,
                                     controls=controls_for(doc["deployment"].get("standards") or []))
        return with_topology(report, doc)


def with_topology(deployment: DeploymentReport, doc: Mapping[str, Any]) -> DeploymentReport:
    """The deployment report with its domains, devices and links coloured by result (for diagrams)."""
    return replace(deployment, topology=build_topology(doc, deployment.results))
